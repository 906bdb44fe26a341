"""`tao <task> prune`: TAO-style structured channel pruning of a trained model."""


import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.errors import report_errors
from taokit.cli.session import start_session


def register(app: typer.Typer, task: str) -> None:
    @app.command("prune", help="Remove low-norm filters (TAO's threshold, equalization and granularity rules).")
    @report_errors
    def prune(
        model: o.RequiredModel,
        output_file: o.OutputFile = None,
        spec: o.Spec = None,
        results_dir: o.ResultsDir = None,
        key: o.Key = None,
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
        force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
        gpus: o.Gpus = 1,
        gpu_index: o.GpuIndex = None,
        use_amp: o.UseAmp = False,
        log_file: o.LogFile = None,
        verbose: o.Verbose = False,
    ) -> None:
        from taokit.actions import prune as action

        session = start_session(results_dir=results_dir, key=key, gpus=gpus, gpu_index=gpu_index,
                                use_amp=use_amp, verbose=verbose, log_file=log_file)
        from taokit.optimize.prune import PruneRules

        rules = PruneRules(pruning_threshold, equalization_criterion, pruning_granularity, min_num_filters,
                           normalizer)
        options = action.PruneOptions(rules, tuple(excluded_layers or ()), force)
        print_result(action.run(task, model, output_file, options, session, spec=spec))
