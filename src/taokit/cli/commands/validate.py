"""`tao dataset validate <task> -e SPEC` (or `-d CONVERT_SPEC`): the dataset as training will read it."""

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.session import session_command
from taokit.requests import Session
from taokit.tasks.registry import TASKS


def register(dataset_group: typer.Typer) -> None:
    @dataset_group.command("validate", help="Read a task's dataset as training will: counts per class, images and "
                                            "labels it would skip, duplicates, box sizes (a PNG in -r).")
    @session_command()
    def validate(
        session: Session,
        spec: o.Spec = None,
        task: str = typer.Argument(..., help=f"The task: {', '.join(TASKS)}."),
        convert_spec: Path | None = typer.Option(None, "-d", "--dataset_export_spec", "--dataset-export-spec",
                                                 help="Instead of -e: the dataset_convert spec; reports the "
                                                      "folds the conversion would write."),
    ) -> None:
        from taokit.actions import validate as action
        from taokit.tasks.registry import canonical

        print_result(action.run(canonical(task), spec, convert_spec, session))
