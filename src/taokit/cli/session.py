"""The flags every action command takes (TAO's global flags), declared once and turned into a Session.

`@session_command()` adds -r/--results_dir, -k/--key, --gpus, --gpu_index, --use_amp, --log_file,
-v/--verbose (and the Hydra-style overrides) to a command, sets up output, and hands the command a
`Session`. Commands declare only their own flags.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from taokit.cli import options as o
from taokit.cli.console import setup_output
from taokit.cli.errors import report_errors
from taokit.requests import Session

log = logging.getLogger("taokit")

_KIND = inspect.Parameter.POSITIONAL_OR_KEYWORD
SESSION_PARAMETERS = [
    inspect.Parameter("results_dir", _KIND, default=None, annotation=o.ResultsDir),
    inspect.Parameter("key", _KIND, default=None, annotation=o.Key),
    inspect.Parameter("gpus", _KIND, default=1, annotation=o.Gpus),
    inspect.Parameter("gpu_index", _KIND, default=None, annotation=o.GpuIndex),
    inspect.Parameter("use_amp", _KIND, default=False, annotation=o.UseAmp),
    inspect.Parameter("log_file", _KIND, default=None, annotation=o.LogFile),
    inspect.Parameter("verbose", _KIND, default=False, annotation=o.Verbose),
    inspect.Parameter("runtime", _KIND, default=None, annotation=o.Runtime),
    inspect.Parameter("image", _KIND, default=None, annotation=o.Image),
]
_COMMAND_LINE: list[str] = []  # what the user typed after `tao`, re-run as is inside a container


def remember_command_line(argv: list[str]) -> None:
    _COMMAND_LINE[:] = argv
OVERRIDES_PARAMETER = inspect.Parameter("overrides", _KIND, default=None, annotation=o.Overrides)


def start_session(*, results_dir: Path | None = None, overrides: list[str] | None = None, key: str | None = None,
                  gpus: int = 1, gpu_index: list[int] | None = None, use_amp: bool = False, verbose: bool = False,
                  log_file: Path | None = None) -> Session:
    """Set up logging (and the --log_file tee) and return the validated session flags."""
    setup_output(verbose=verbose, log_file=log_file)
    if key:
        log.info("-k/--key is accepted for TAO compatibility and ignored: taokit does not encrypt models")
    return Session(results_dir=results_dir, overrides=list(overrides or []), gpus=gpus,
                   gpu_index=list(gpu_index or []), use_amp=use_amp, verbose=verbose, log_file=log_file)


def session_command(*, overrides: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the session flags; the command takes `session: Session` instead of them.

    A command may declare one of the flags itself (e.g. a required -r); its own declaration wins.
    `overrides=False` for commands that read no spec (their trailing words would be ignored silently).
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        own = [p for p in inspect.signature(func).parameters.values() if p.name != "session"]
        names = {p.name for p in own}
        added = [p for p in SESSION_PARAMETERS if p.name not in names]
        if overrides:
            added.append(OVERRIDES_PARAMETER)
        parameters = own + added

        @functools.wraps(func)
        def command(**kwargs: Any) -> Any:
            flags = {p.name: kwargs.get(p.name, p.default) for p in (*SESSION_PARAMETERS, OVERRIDES_PARAMETER)}
            for p in added:
                kwargs.pop(p.name, None)
            runtime, image = flags.pop("runtime"), flags.pop("image")
            if _in_container(runtime, image, flags):
                return None
            session = start_session(**flags)
            return func(session=session, **kwargs)

        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        return report_errors(command)

    return decorate


def _in_container(runtime: str | None, image: str | None, flags: dict[str, Any]) -> bool:
    """Re-run the command in a container when the runtime is docker; True when it ran there."""
    from taokit.launch.docker import choose_runtime

    chosen = choose_runtime(runtime, image)
    if chosen.name != "docker":
        return False
    from taokit.launch.docker import run_in_container

    setup_output(verbose=flags["verbose"])  # the job in the container writes --log_file itself
    code = run_in_container(list(_COMMAND_LINE), chosen, gpus=flags["gpus"], gpu_index=list(flags["gpu_index"] or []))
    if code:
        raise typer.Exit(code)
    return True
