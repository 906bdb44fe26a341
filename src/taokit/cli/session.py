"""What every action command does first: output set-up and the flags TAO accepts everywhere."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from taokit.cli.console import setup_output

log = logging.getLogger("taokit")


@dataclass(frozen=True)
class Session:
    """The flags common to every action, after validation."""

    results_dir: Path | None
    overrides: list[str] = field(default_factory=list)
    gpus: int = 1
    gpu_index: list[int] = field(default_factory=list)
    use_amp: bool = False
    verbose: bool = False
    log_file: Path | None = None


def start_session(
    *,
    results_dir: Path | None,
    overrides: list[str] | None = None,
    key: str | None = None,
    gpus: int = 1,
    gpu_index: list[int] | None = None,
    use_amp: bool = False,
    verbose: bool = False,
    log_file: Path | None = None,
) -> Session:
    setup_output(verbose=verbose, log_file=log_file)
    if key:
        log.info("-k/--key is accepted for TAO compatibility and ignored: taokit does not encrypt models")
    return Session(
        results_dir=results_dir,
        overrides=list(overrides or []),
        gpus=gpus,
        gpu_index=list(gpu_index or []),
        use_amp=use_amp,
        verbose=verbose,
        log_file=log_file,
    )
