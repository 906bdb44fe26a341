"""`tao <task> inference`: run a model on images, a directory, a glob or a video."""

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.errors import report_errors
from taokit.cli.session import start_session


def register(app: typer.Typer, task: str) -> None:
    @app.command("inference", help="Run a model on an image, a directory, a glob or a video.")
    @report_errors
    def inference(
        spec: o.Spec = None,
        inputs: str = typer.Option(..., "-i", "--image_dir", "--image-dir", "--image", "-d",
                                   help="An image, a directory, a glob pattern or a video file."),
        results_dir: o.ResultsDir = None,
        model: o.Model = None,
        key: o.Key = None,
        batch_size: o.BatchSize = None,
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
        from taokit.actions import inference as action

        session = start_session(results_dir=results_dir, overrides=overrides, key=key, gpus=gpus,
                                gpu_index=gpu_index, use_amp=use_amp, verbose=verbose, log_file=log_file)
        result = action.run(task, spec, inputs, model, session, batch_size=batch_size, backend=backend,
                            device=device, strict=strict, classmap=classmap)
        print_result(result)
