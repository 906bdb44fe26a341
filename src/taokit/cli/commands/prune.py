"""`tao <task> prune`: TAO-style structured channel pruning of a trained model."""

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.session import session_command
from taokit.requests import Session


def register(app: typer.Typer, task: str) -> None:
    @app.command("prune", help="Remove low-norm filters (TAO's threshold, equalization and granularity rules).")
    @session_command(overrides=False)
    def prune(
        session: Session,
        model: o.RequiredModel,
        output_file: o.OutputFile = None,
        spec: o.Spec = None,
        pruning_threshold: float = typer.Option(0.1, "-pth", "--pruning_threshold", "--pruning-threshold",
                                                min=0.0, help="Normalised filter-norm threshold."),
        equalization_criterion: str = typer.Option(
            "union", "-eq", "--equalization_criterion", "--equalization-criterion",
            help="How coupled layers agree: union, intersection, arithmetic_mean, geometric_mean."),
        pruning_granularity: int = typer.Option(8, "-pg", "--pruning_granularity", "--pruning-granularity",
                                                min=1, help="Kept filters are a multiple of this."),
        min_num_filters: int = typer.Option(16, "-nf", "--min_num_filters", "--min-num-filters", min=1,
                                            help="Never keep fewer filters than this in a layer."),
        normalizer: str = typer.Option("max", "-n", "--normalizer", help="Per-layer norm normaliser: max or L2."),
        excluded_layers: list[str] | None = typer.Option(
            None, "-el", "--excluded_layers", "--excluded-layers", help="Layers to leave unpruned."),
        force: o.Force = False,
    ) -> None:
        from taokit.actions import prune as action
        from taokit.optimize.prune import PruneRules

        rules = PruneRules(pruning_threshold, equalization_criterion, pruning_granularity, min_num_filters,
                           normalizer)
        print_result(action.run(task, model, output_file, action.PruneOptions(rules, tuple(excluded_layers or ()),
                                                                              force), session, spec=spec))
