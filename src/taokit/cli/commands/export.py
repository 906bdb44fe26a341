"""`tao <task> export`: ONNX with TAO's tensor names, optional INT8 calibration and deployment files."""

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.session import session_command
from taokit.requests import Session


def register(app: typer.Typer, task: str) -> None:
    @app.command("export", help="Export to ONNX (checked against PyTorch), optionally INT8 and DeepStream/Triton "
                                "files. Without -e, the spec recorded with the model is used.")
    @session_command()
    def export(
        session: Session,
        model: o.RequiredModel,
        output_file: o.OutputFile = None,
        spec: o.Spec = None,
        gen_ds_config: o.GenDsConfig = False,
        gen_triton_repo: Path | None = typer.Option(None, "--gen_triton_repo", "--gen-triton-repo",
                                                       help="Write a Triton model repository here."),
        target_opset: int = typer.Option(17, "--target_opset", "--target-opset", min=13, help="ONNX opset."),
        static_batch_size: int = typer.Option(-1, "--static_batch_size", "--static-batch-size",
                                              help="Fixed batch size; -1 exports a dynamic batch."),
        data_type: o.DataType = "fp32",
        cal_image_dir: o.CalImageDir = None,
        cal_cache_file: Path | None = typer.Option(None, "--cal_cache_file", "--cal-cache-file",
                                                      help="TensorRT calibration cache to write."),
        batches: o.CalBatches = 10,
        batch_size: o.CalBatchSize = 8,
        trt_version: str | None = typer.Option(None, "--trt_version", "--trt-version",
                                                  help="TensorRT version for the cache header, e.g. 10.3.0."),
        engine_file: Path | None = typer.Option(None, "--engine_file", "--engine-file",
                                                   help="Also build a TensorRT engine (needs TensorRT and a GPU)."),
        force: o.Force = False,
        max_diff: float | None = typer.Option(
            None, "--max_diff", "--max-diff", min=0.0,
            help="Quality gate: exit 3 when an exported model's outputs differ from PyTorch's by more than this "
                 "(max abs; the INT8 model's too with --data_type int8)."),
    ) -> None:
        from taokit.actions import export as action
        from taokit.actions.gates import check_at_most

        options = action.ExportOptions(
            opset=target_opset, static_batch_size=static_batch_size, data_type=data_type,
            gen_ds_config=gen_ds_config, triton_repo=gen_triton_repo, cal_image_dir=cal_image_dir,
            cal_cache_file=cal_cache_file, cal_batches=batches, cal_batch_size=batch_size,
            trt_version=trt_version, engine_file=engine_file, force=force)
        result = action.run(task, model, output_file, options, session, spec=spec)
        print_result(result)
        diffs = {label: result.data[key] for key, label in (("max_abs_diff", "FP32"), ("int8_max_abs_diff", "INT8"))
                 if key in result.data}
        check_at_most("max abs diff vs PyTorch:", diffs, max_diff, "--max_diff")
