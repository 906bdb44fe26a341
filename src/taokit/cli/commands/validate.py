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
        strict: bool = typer.Option(False, "--strict", help="Quality gate: exit 3 when the report finds a problem "
                                    "(undecodable images, broken labels, duplicates, images in both splits, classes "
                                    "without objects, no validation data)."),
    ) -> None:
        from taokit.actions import validate as action
        from taokit.actions.gates import check_no_problems
        from taokit.tasks.registry import canonical

        result = action.run(canonical(task), spec, convert_spec, session)
        print_result(result)
        if strict:
            check_no_problems(result.data.get("problems", []))
