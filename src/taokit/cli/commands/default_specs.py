"""`tao <task> default_specs`: write commented default spec files for every action."""

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.session import session_command
from taokit.requests import Session


def register(app: typer.Typer, task: str) -> None:
    @app.command("default_specs", help="Write commented default spec files for every action.")
    @session_command(overrides=False)
    def default_specs(
        session: Session,
        results_dir: Path = typer.Option(..., "-r", "--results_dir", "--results-dir",
                                         help="Directory to write the spec files into."),
        force: o.Force = False,
    ) -> None:
        from taokit.actions import default_specs as action

        print_result(action.run(task, results_dir, force=force))
