"""gen_trt_engine (also `tao deploy <task> gen_trt_engine`): a TensorRT engine from an exported ONNX."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from taokit.engine.model_files import default_output, resolve_model_file
from taokit.engine.status import status_job
from taokit.errors import ModelError, UsageError, already_exists, first_line
from taokit.requests import Session, check_data_type
from taokit.results import Result
from taokit.spec import task_specs
from taokit.tasks.base import Task
from taokit.tasks.registry import get_task

if TYPE_CHECKING:
    from taokit.deploy.deepstream import DeepStreamConfig


@dataclass(frozen=True)
class EngineOptions:
    data_type: str = "fp32"
    engine_file: Path | None = None
    cal_cache_file: Path | None = None
    cal_image_dir: Path | None = None
    cal_batches: int = 10
    cal_batch_size: int = 8
    min_batch: int = 1
    opt_batch: int = 1
    max_batch: int = 1
    workspace_gib: float = 2.0
    force: bool = False
    gen_ds_config: bool = False  # write labels.txt and nvinfer_config.txt next to the engine


def onnx_input(path: Path) -> tuple[str, tuple[int, int, int]]:
    """The single image input of an ONNX file: its name and static C, H, W."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as err:  # noqa: BLE001 - protobuf raises several types for non-ONNX files
        raise ModelError(f"{path}: not an ONNX model ({first_line(err, 120)})") from None
    if len(model.graph.input) != 1:
        raise ModelError(f"{path}: expected one image input, found {len(model.graph.input)}")
    value = model.graph.input[0]
    dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
    if len(dims) != 4 or not all(dims[1:]):
        raise ModelError(f"{path}: input {value.name} must be N x C x H x W with static C, H, W")
    return value.name, (dims[1], dims[2], dims[3])


def build(onnx_path: Path, input_name: str, input_chw: tuple[int, int, int], options: EngineOptions,
          calibration: Callable[[], Iterator[np.ndarray]] | None) -> Path:
    from taokit.optimize.tensorrt_build import EngineRequest, build_engine

    engine = options.engine_file or onnx_path.with_suffix(".engine")
    request = EngineRequest(
        onnx_path=onnx_path, engine_path=engine, data_type=options.data_type, cal_cache=options.cal_cache_file,
        calibration=calibration, cal_batch_size=options.cal_batch_size, min_batch=options.min_batch,
        opt_batch=max(options.opt_batch, options.min_batch), max_batch=max(options.max_batch, options.opt_batch),
        workspace_gib=options.workspace_gib, input_name=input_name, input_chw=input_chw)
    build_engine(request)
    return engine


def run(task_name: str, model_path: Path, options: EngineOptions, session: Session, *,
        spec: Path | None = None) -> Result:
    task = get_task(task_name)
    task.require("gen_trt_engine")
    check_data_type(options.data_type)
    source, model_path = model_path, resolve_model_file(model_path)
    if model_path.suffix.lower() != ".onnx":
        raise UsageError(f"-m {model_path}: gen_trt_engine builds from an ONNX file; run export first")
    engine = options.engine_file or default_output(source, model_path, ".engine")
    if engine.exists() and not options.force:
        raise already_exists(engine, "choose --engine_file")
    input_name, chw = onnx_input(model_path)
    calibration = None
    if options.data_type == "int8" and options.cal_cache_file is None:
        calibration = _calibration(task, spec, session, options, chw, model_path)
    deepstream = None
    if options.gen_ds_config:  # read before building: a model DeepStream cannot describe fails fast
        for name in ("labels.txt", "nvinfer_config.txt"):  # NGC ships both beside its ONNX files
            existing = engine.parent / name
            if existing.exists() and not options.force:
                raise already_exists(existing, "write the engine elsewhere with --engine_file")
        ds_spec = task_specs.load_file(task, spec, overrides=session.overrides) if spec is not None else None
        deepstream = task.deepstream_for_onnx(model_path, ds_spec)
    with status_job(session.results_dir, f"Building a TensorRT {options.data_type} engine from {model_path}",
                    f"Engine written to {engine}"):
        built = build(model_path, input_name, chw, options, calibration)
    lines = [f"TensorRT engine: {built}"]
    if deepstream is not None:
        lines += _write_deepstream(deepstream, model_path, built, options)
    return Result(lines=lines)


def _write_deepstream(deepstream: DeepStreamConfig, onnx_path: Path, engine: Path, options: EngineOptions) -> list[str]:
    from taokit.deploy.deepstream import write_deepstream_files

    mode = {"fp32": 0, "int8": 1, "fp16": 2}[options.data_type]
    config = deepstream.with_properties(**{"model-engine-file": engine.name, "batch-size": options.max_batch})
    written = write_deepstream_files(engine.parent, onnx_path, config,
                                     options.cal_cache_file if options.data_type == "int8" else None,
                                     network_mode=mode)
    return [f"DeepStream: {', '.join(str(p) for p in written)}"]


def _calibration(task: Task, spec: Path | None, session: Session, options: EngineOptions,
                 chw: tuple[int, int, int], model_path: Path) -> Callable[[], Iterator[np.ndarray]] | None:
    """Images for TensorRT 10's implicit calibration (None lets a QDQ model build without them)."""
    from taokit.optimize.calibration_batches import ImageBatches, calibration_images

    spec_model = task_specs.find(task, "gen_trt_engine", spec, session.overrides, model_path=model_path)
    if spec_model is None and options.cal_image_dir is None:
        return None
    source = task.calibration_source(spec_model, chw)
    images = calibration_images(options.cal_image_dir, source.images, options.cal_batches * options.cal_batch_size)
    batches = ImageBatches(images, source.preprocess, options.cal_batch_size)
    return lambda: iter(batches)
