"""`tao <task> evaluate`: metrics of a model (.pth, .onnx or .engine) on the validation data."""

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.errors import report_errors
from taokit.cli.session import start_session


def register(app: typer.Typer, task: str) -> None:
    @app.command("evaluate", help="Evaluate a model (.pth, .onnx or .engine) on the validation set.")
    @report_errors
    def evaluate(
        spec: o.RequiredSpec,
        model: o.RequiredModel,
        results_dir: o.ResultsDir = None,
        key: o.Key = None,
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
        gpus: o.Gpus = 1,
        gpu_index: o.GpuIndex = None,
        use_amp: o.UseAmp = False,
        log_file: o.LogFile = None,
        verbose: o.Verbose = False,
        overrides: o.Overrides = None,
    ) -> None:
        from taokit.actions import evaluate as action

        session = start_session(results_dir=results_dir, overrides=overrides, key=key, gpus=gpus,
                                gpu_index=gpu_index, use_amp=use_amp, verbose=verbose, log_file=log_file)
        result = action.run(task, spec, model, session, batch_size=batch_size, image_dir=image_dir,
                            label_dir=label_dir, use_training_set=use_training_set,
                            backend=backend or _framework_backend(framework), device=device, strict=strict,
                            classmap=classmap)
        print_result(result)


def _framework_backend(framework: str | None) -> str | None:
    return {"tensorrt": "tensorrt"}.get(framework or "")
