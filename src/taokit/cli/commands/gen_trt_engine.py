"""`tao <task> gen_trt_engine` (also `tao deploy <task> gen_trt_engine`): a TensorRT engine from ONNX."""

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.session import session_command
from taokit.requests import Session


def register(app: typer.Typer, task: str) -> None:
    @app.command("gen_trt_engine", help="Build a TensorRT engine (fp32, fp16 or int8) from an exported ONNX.")
    @session_command()
    def gen_trt_engine(
        session: Session,
        model: o.RequiredModel,
        spec: o.Spec = None,
        data_type: o.DataType = "fp32",
        engine_file: Path | None = typer.Option(None, "--engine_file", "--engine-file",
                                                   help="Engine to write (default: next to the ONNX)."),
        cal_cache_file: Path | None = typer.Option(None, "--cal_cache_file", "--cal-cache-file",
                                                      help="TensorRT calibration cache (TensorRT 10)."),
        cal_image_dir: o.CalImageDir = None,
        batches: o.CalBatches = 10,
        batch_size: o.CalBatchSize = 8,
        min_batch_size: int = typer.Option(1, "--min_batch_size", "--min-batch-size", min=1),
        opt_batch_size: int = typer.Option(1, "--opt_batch_size", "--opt-batch-size", min=1),
        max_batch_size: int = typer.Option(1, "--max_batch_size", "--max-batch-size", min=1),
        max_workspace_size: float = typer.Option(2.0, "--max_workspace_size", "--max-workspace-size",
                                                 help="Builder workspace in GiB."),
        strict_type_constraints: bool = typer.Option(False, "-s", "--strict_type_constraints",
                                                     help="Accepted for TAO compatibility."),
        gen_ds_config: o.GenDsConfig = False,
        force: o.Force = False,
    ) -> None:
        from taokit.actions import gen_trt_engine as action

        options = action.EngineOptions(
            data_type=data_type, engine_file=engine_file, cal_cache_file=cal_cache_file,
            cal_image_dir=cal_image_dir, cal_batches=batches, cal_batch_size=batch_size,
            min_batch=min_batch_size, opt_batch=opt_batch_size, max_batch=max_batch_size,
            workspace_gib=max_workspace_size, force=force, gen_ds_config=gen_ds_config)
        print_result(action.run(task, model, options, session, spec=spec))
