"""`tao spec check|convert`: validate a spec and print the resolved config; convert text <-> YAML."""

from __future__ import annotations

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_lines
from taokit.cli.errors import report_errors
from taokit.cli.session import start_session
from taokit.spec import task_specs
from taokit.tasks.registry import TASKS

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  help="Check and convert spec files.")

TaskOpt = str | None


TASK_HELP = f"The task: {', '.join(TASKS)}."


def _task(name: str | None, path: Path) -> str:
    if name:
        return name
    from taokit.errors import UsageError

    raise UsageError(f"{path}: pass --task ({', '.join(TASKS)})")


@app.command("check", help="Validate a spec file and print the resolved config (all defaults filled in).")
@report_errors
def check(
    spec: Path = typer.Argument(..., help="The spec file."),
    task: TaskOpt = typer.Option(None, "--task", "-t", help=TASK_HELP),
    kind: str | None = typer.Option(None, "--kind", help="Spec kind (default: detected from its sections)."),
    output_format: str = typer.Option("yaml", "--format", help="Print the resolved config as yaml or prototext."),
    verbose: o.Verbose = False,
    overrides: o.Overrides = None,
) -> None:
    from taokit.spec.load import extensions_set
    from taokit.spec.write import to_prototext, to_yaml
    from taokit.tasks.registry import get_task

    start_session(verbose=verbose)
    task_obj = get_task(_task(task, spec))
    model = task_specs.load_file(task_obj, spec, kind, overrides or [])
    writer = to_prototext if output_format == "prototext" else to_yaml
    text = writer(model, include_defaults=True)
    extensions = [f"#   {key}: {about}" for key, about in extensions_set(model)]
    if extensions:
        extensions.insert(0, "# taokit extensions this spec sets (TAO would refuse or not read them):")
    print_lines([f"# {spec}: valid {task_obj.name} {type(model).__name__}", *extensions, text.rstrip()])


@app.command("convert", help="Convert a spec between protobuf text format and YAML (by output suffix).")
@report_errors
def convert(
    spec: Path = typer.Argument(..., help="The spec file to convert."),
    output: Path = typer.Option(..., "-o", "--output", help="Output file: .yaml/.yml for YAML, else text."),
    task: TaskOpt = typer.Option(None, "--task", "-t", help=TASK_HELP),
    kind: str | None = typer.Option(None, "--kind", help="Spec kind (default: detected)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
    verbose: o.Verbose = False,
) -> None:
    from taokit.engine.files import atomic_write_text
    from taokit.errors import already_exists
    from taokit.spec.load import spec_format
    from taokit.spec.write import to_prototext, to_yaml
    from taokit.tasks.registry import get_task

    start_session(verbose=verbose)
    if output.exists() and not force:
        raise already_exists(output, "")
    model = task_specs.load_file(get_task(_task(task, spec)), spec, kind, [])
    text = to_yaml(model) if spec_format(output) == "yaml" else to_prototext(model)
    atomic_write_text(output, text)
    print_lines([f"wrote {output}"])
