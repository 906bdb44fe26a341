"""`tao <task> evaluate`: metrics of a model (.pth, .onnx or .engine) on the validation data."""

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.session import session_command
from taokit.requests import Session


def register(app: typer.Typer, task: str) -> None:
    @app.command("evaluate", help="Evaluate a model (.pth, .onnx or .engine) on the validation set. Without -e, "
                                  "the spec recorded with the model is used.")
    @session_command()
    def evaluate(
        session: Session,
        spec: o.Spec = None,
        model: o.Model = None,
        batch_size: o.BatchSize = None,
        image_dir: Path | None = typer.Option(None, "-i", "--image_dir", "--image-dir",
                                                 help="Evaluate on these images instead of the spec's."),
        label_dir: Path | None = typer.Option(None, "-l", "--label_dir", "--label-dir",
                                                 help="Labels for --image_dir."),
        use_training_set: bool = typer.Option(False, "--use_training_set", "--use-training-set",
                                              help="Evaluate on the training split."),
        framework: str | None = typer.Option(None, "-f", "--framework",
                                                help="TAO's tlt|tensorrt; taokit picks by model suffix."),
        backend: o.Backend = None,
        device: o.Device = None,
        strict: o.Strict = False,
        classmap: o.Classmap = None,
        min_metric: o.MinMetric = None,
    ) -> None:
        from taokit.actions import evaluate as action
        from taokit.actions.gates import check_min_metrics, parse_min_metrics

        gates = parse_min_metrics(min_metric)
        options = action.EvaluateOptions(batch_size, image_dir, label_dir, use_training_set,
                                         backend or o.framework_backend(framework), device, strict, classmap)
        result = action.run(task, spec, model, session, options)
        print_result(result)
        check_min_metrics(result.metrics, gates)
