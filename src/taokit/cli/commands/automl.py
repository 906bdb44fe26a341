"""`tao <task> automl`: hyper-parameter search (TAO's Bayesian and Hyperband, on Optuna)."""

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.session import session_command
from taokit.requests import Session


def register(app: typer.Typer, task: str) -> None:
    @app.command("automl", help="Search hyper-parameters: each trial is a train run in -r; resumes when re-run.")
    @session_command()
    def automl(
        session: Session,
        spec: o.RequiredSpec,
        automl_algorithm: str | None = typer.Option(None, "--automl_algorithm", "--automl-algorithm",
                                                       help="bayesian (default) or hyperband."),
        automl_max_recommendations: int | None = typer.Option(
            None, "--automl_max_recommendations", "--automl-max-recommendations", min=1,
            help="Bayesian: how many trials (20)."),
        automl_R: int | None = typer.Option(None, "--automl_R", "--automl-R", min=1,
                                               help="Hyperband: the most epochs a trial gets (27)."),
        automl_nu: int | None = typer.Option(None, "--automl_nu", "--automl-nu", min=2,
                                                help="Hyperband: the reduction factor (3)."),
        epoch_multiplier: int | None = typer.Option(None, "--epoch_multiplier", "--epoch-multiplier", min=1,
                                                       help="Epochs per Hyperband rung unit (1)."),
        metric: str | None = typer.Option(None, "--metric", help="kpi (the task's, maximised) or loss."),
        add: list[str] | None = typer.Option(None, "--automl_add_hyperparameters", "--automl-add-hyperparameters",
                                                help="key:float|log|int:LOW:HIGH or key:choice:A,B,C (repeat)."),
        remove: list[str] | None = typer.Option(
            None, "--automl_remove_hyperparameters", "--automl-remove-hyperparameters", help="A key to leave alone (repeat)."),
    ) -> None:
        from taokit.actions import automl as action

        flags = {"automl_algorithm": automl_algorithm, "automl_max_recommendations": automl_max_recommendations,
                 "automl_R": automl_R, "automl_nu": automl_nu, "epoch_multiplier": epoch_multiplier, "metric": metric,
                 "automl_add_hyperparameters": add or None, "automl_remove_hyperparameters": remove or None}
        print_result(action.run(task, spec, session, flags))
