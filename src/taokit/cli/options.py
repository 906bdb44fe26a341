"""Command-line options shared by the actions, with TAO's flag names (underscores) and dashed aliases."""

from pathlib import Path
from typing import Annotated

import typer

Spec = Annotated[Path | None, typer.Option(
    "-e", "--experiment_spec_file", "--experiment_spec", "--experiment-spec-file",
    help="Spec file: TAO protobuf text (.txt/.cfg) or YAML (.yaml).")]
RequiredSpec = Annotated[Path, typer.Option(
    "-e", "--experiment_spec_file", "--experiment_spec", "--experiment-spec-file",
    help="Spec file: TAO protobuf text (.txt/.cfg) or YAML (.yaml).")]
ResultsDir = Annotated[Path | None, typer.Option(
    "-r", "--results_dir", "--results-dir", help="Directory for outputs, logs and status.json.")]
Key = Annotated[str | None, typer.Option(
    "-k", "--key", help="Accepted for TAO compatibility; taokit does not encrypt models.")]
Model = Annotated[Path | None, typer.Option(
    "-m", "--model", "--model_path", "--model-path", help="Model file: .pth, .onnx or .engine.")]
RequiredModel = Annotated[Path, typer.Option(
    "-m", "--model", "--model_path", "--model-path", help="Model file: .pth, .onnx or .engine.")]
OutputFile = Annotated[Path | None, typer.Option("-o", "--output_file", "--output-file", help="Output file.")]
ModelName = Annotated[str, typer.Option(
    "-n", "--model_name", "--model-name", help="Name of the final weights file: weights/<name>.pth.")]
Verbose = Annotated[bool, typer.Option("-v", "--verbose", help="Log debug messages.")]
Gpus = Annotated[int, typer.Option("--gpus", min=0, help="Number of GPUs (processes) to use; 0 forces the CPU.")]
GpuIndex = Annotated[list[int] | None, typer.Option(
    "--gpu_index", "--gpu-index", help="GPU ids to use, e.g. --gpu_index 0 1.")]
UseAmp = Annotated[bool, typer.Option("--use_amp", "--use-amp", help="Mixed precision training on GPU.")]
LogFile = Annotated[Path | None, typer.Option(
    "--log_file", "--log-file", help="Also write all output to this file.")]
Overrides = Annotated[list[str] | None, typer.Argument(
    help="Spec overrides, Hydra style: training_config.num_epochs=5", show_default=False)]
BatchSize = Annotated[int | None, typer.Option("-b", "--batch_size", "--batch-size", min=1,
                                                  help="Batch size.")]
Backend = Annotated[str | None, typer.Option(
    "--backend", help="Runtime: torch, onnxruntime, openvino (.onnx on the CPU), tensorrt, or auto (an .onnx on an "
                      "AVX-512 CPU goes to OpenVINO when installed); default: from the model file suffix.")]
Device = Annotated[str | None, typer.Option("--device", help="cpu or cuda[:N] (default: a GPU if present).")]
Classmap = Annotated[Path | None, typer.Option(
    "-cm", "--classmap", "--classmap_json", help="classmap.json of the model's classes (classification).")]
Strict = Annotated[bool, typer.Option("--strict", help="Treat corrupt images as errors instead of skipping them.")]
MinMetric = Annotated[list[str] | None, typer.Option(
    "--min_metric", "--min-metric", help="Quality gate: exit 3 unless KPI reaches VALUE, e.g. --min_metric mAP=0.8 "
                                         "(repeatable; KPIs as in status.json).")]
Force = Annotated[bool, typer.Option("--force", help="Overwrite output files that already exist.")]
GenDsConfig = Annotated[bool, typer.Option(
    "--gen_ds_config", "--gen-ds-config",
    help="Write labels.txt and nvinfer_config.txt (DeepStream) beside the output, naming the tensors as the "
         "model does.")]
DataType = Annotated[str, typer.Option("--data_type", "--data-type", help="fp32, fp16 or int8.")]
CalImageDir = Annotated[Path | None, typer.Option(
    "--cal_image_dir", "--cal-image-dir", help="INT8 calibration images (default: the training set).")]
CalBatches = Annotated[int, typer.Option("--batches", min=1, help="Calibration batches.")]
CalBatchSize = Annotated[int, typer.Option("--batch_size", "--batch-size", min=1, help="Calibration batch size.")]


def framework_backend(framework: str | None) -> str | None:
    """TAO's -f/--framework tlt|tensorrt as a taokit backend (tlt: by the model file's suffix)."""
    return {"tensorrt": "tensorrt"}.get(framework or "")
Runtime = Annotated[str | None, typer.Option(
    "--runtime", help="Where the job runs: local (this process) or docker (the same command in a container; "
                      "also TAO_RUNTIME or the mounts file).")]
Image = Annotated[str | None, typer.Option(
    "--image", help="Container image for --runtime docker (default: TAO_IMAGE, the mounts file, taokit:local).")]
