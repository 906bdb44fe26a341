"""`tao <task> gen_trt_engine` (also `tao deploy <task> gen_trt_engine`): a TensorRT engine from ONNX."""

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.errors import report_errors
from taokit.cli.session import start_session


def register(app: typer.Typer, task: str) -> None:
    @app.command("gen_trt_engine", help="Build a TensorRT engine (fp32, fp16 or int8) from an exported ONNX.")
    @report_errors
    def gen_trt_engine(
        model: o.RequiredModel,
        spec: o.Spec = None,
        results_dir: o.ResultsDir = None,
        key: o.Key = None,
        data_type: str = typer.Option("fp32", "--data_type", "--data-type", help="fp32, fp16 or int8."),
        engine_file: Path | None = typer.Option(None, "--engine_file", "--engine-file",
                                                   help="Engine to write (default: next to the ONNX)."),
        cal_cache_file: Path | None = typer.Option(None, "--cal_cache_file", "--cal-cache-file",
                                                      help="TensorRT calibration cache (TensorRT 10)."),
        cal_image_dir: Path | None = typer.Option(None, "--cal_image_dir", "--cal-image-dir",
                                                     help="Calibrate from these images (TensorRT 10)."),
        batches: int = typer.Option(10, "--batches", min=1, help="Calibration batches."),
        batch_size: int = typer.Option(8, "--batch_size", "--batch-size", min=1, help="Calibration batch size."),
        min_batch_size: int = typer.Option(1, "--min_batch_size", "--min-batch-size", min=1),
        opt_batch_size: int = typer.Option(1, "--opt_batch_size", "--opt-batch-size", min=1),
        max_batch_size: int = typer.Option(1, "--max_batch_size", "--max-batch-size", min=1),
        max_workspace_size: float = typer.Option(2.0, "--max_workspace_size", "--max-workspace-size",
                                                 help="Builder workspace in GiB."),
        strict_type_constraints: bool = typer.Option(False, "-s", "--strict_type_constraints",
                                                     help="Accepted for TAO compatibility."),
        force: bool = typer.Option(False, "--force", help="Overwrite the engine file if it exists."),
        gpus: o.Gpus = 1,
        gpu_index: o.GpuIndex = None,
        use_amp: o.UseAmp = False,
        log_file: o.LogFile = None,
        verbose: o.Verbose = False,
        overrides: o.Overrides = None,
    ) -> None:
        from taokit.actions import gen_trt_engine as action

        session = start_session(results_dir=results_dir, overrides=overrides, key=key, gpus=gpus,
                                gpu_index=gpu_index, use_amp=use_amp, verbose=verbose, log_file=log_file)
        options = action.EngineOptions(
            data_type=data_type, engine_file=engine_file, cal_cache_file=cal_cache_file,
            cal_image_dir=cal_image_dir, cal_batches=batches, cal_batch_size=batch_size,
            min_batch=min_batch_size, opt_batch=opt_batch_size, max_batch=max_batch_size,
            workspace_gib=max_workspace_size, force=force)
        print_result(action.run(task, model, options, session, spec=spec))
