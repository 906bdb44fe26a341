"""`tao <task> default_specs`: write commented default spec files for every action."""

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.errors import report_errors
from taokit.cli.session import start_session


def register(app: typer.Typer, task: str) -> None:
    @app.command("default_specs", help="Write commented default spec files for every action.")
    @report_errors
    def default_specs(
        results_dir: Path = typer.Option(..., "-r", "--results_dir", "--results-dir",
                                         help="Directory to write the spec files into."),
        force: bool = typer.Option(False, "--force", help="Overwrite spec files that already exist."),
        key: o.Key = None,
        verbose: o.Verbose = False,
        log_file: o.LogFile = None,
    ) -> None:
        from taokit.actions import default_specs as action

        start_session(results_dir=results_dir, key=key, verbose=verbose, log_file=log_file)
        print_result(action.run(task, results_dir, force=force))
