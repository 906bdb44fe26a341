"""export: ONNX with the task's tensor names, checked against PyTorch; optionally INT8, DeepStream,
Triton and a TensorRT engine."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from taokit.engine.model_files import default_output, resolve_model_file
from taokit.engine.status import numeric, status_job
from taokit.errors import ExportError, UsageError, already_exists
from taokit.optimize.int8_files import int8_onnx_paths
from taokit.requests import Session, check_data_type
from taokit.results import Result
from taokit.spec import task_specs
from taokit.spec.base import SpecModel
from taokit.tasks.base import Task
from taokit.tasks.common.spec_record import SPEC_METADATA_KEY
from taokit.tasks.registry import get_task

if TYPE_CHECKING:
    from taokit.optimize.plan import ExportPlan

log = logging.getLogger("taokit.export")
PARITY_TOLERANCE = 1e-3
PARITY_IMAGES = 4


@dataclass(frozen=True)
class ExportOptions:
    opset: int = 17
    static_batch_size: int = -1
    data_type: str = "fp32"
    gen_ds_config: bool = False
    triton_repo: Path | None = None
    cal_image_dir: Path | None = None
    cal_cache_file: Path | None = None
    cal_batches: int = 10
    cal_batch_size: int = 8
    trt_version: str | None = None
    engine_file: Path | None = None
    force: bool = False


def _outputs(out: Path, options: ExportOptions) -> list[Path]:
    paths = [out]
    if options.data_type == "int8":
        paths += [*int8_onnx_paths(out),
                  options.cal_cache_file or out.with_name("cal.bin")]
    if options.gen_ds_config:
        paths += [out.with_name("labels.txt"), out.with_name("nvinfer_config.txt")]
    return paths


def run(task_name: str, model_path: Path, output_file: Path | None, options: ExportOptions, session: Session, *,
        spec: Path | None = None) -> Result:
    task = get_task(task_name)
    task.require("export")
    check_data_type(options.data_type)
    source, model_path = model_path, resolve_model_file(model_path)
    spec_model = task_specs.find(task, "export", spec, session.overrides, model_path=model_path)
    out = output_file or default_output(source, model_path, ".onnx")
    if out.suffix != ".onnx":
        raise UsageError(f"-o {out}: the output file must end in .onnx")
    existing = [p for p in _outputs(out, options) if p.exists()]
    if existing and not options.force:
        raise already_exists(existing[0], "choose another -o")
    with status_job(session.results_dir, f"Starting {task.name} export of {model_path}", "Export finished") as outcome:
        result = _export(task, spec_model, model_path, out, options)
        outcome.kpi = numeric(result.data)
    return result


def _export(task: Task, spec: SpecModel | None, model_path: Path, out: Path, options: ExportOptions) -> Result:
    from taokit.optimize.calibration_batches import ImageBatches, calibration_images
    from taokit.optimize.onnx_export import export_onnx
    from taokit.optimize.tensorrt_ops import unsupported_ops
    from taokit.optimize.verify import max_differences, torch_outputs

    plan = task.export_plan(model_path, spec)
    if spec is not None:  # later actions on the ONNX (evaluate, inference) can run without -e
        plan.metadata[SPEC_METADATA_KEY] = json.dumps(task_specs.record(task, spec))
    proto = export_onnx(plan, out, options.opset, options.static_batch_size)
    lines = [f"ONNX: {out} (opset {options.opset}, input {plan.input_name} "
             f"{'N' if options.static_batch_size <= 0 else options.static_batch_size}x"
             f"{'x'.join(map(str, plan.input_chw))}, outputs {', '.join(plan.output_names)})"]
    unsupported = unsupported_ops(proto)
    if unsupported:
        log.warning("ops TensorRT's ONNX parser does not support: %s", ", ".join(unsupported))
    batch = _parity_batch(plan, options, calibration_images)
    reference = torch_outputs(plan, batch)
    diffs = max_differences(reference, out, batch)
    lines.append(f"ONNX Runtime vs PyTorch on {len(batch)} image(s): max abs diff "
                 + ", ".join(f"{n} {d:.2e}" for n, d in zip(plan.output_names, diffs, strict=True)))
    if max(diffs) > PARITY_TOLERANCE:
        raise ExportError(f"{out}: ONNX Runtime differs from PyTorch by {max(diffs):.2e} (> {PARITY_TOLERANCE})")
    data: dict[str, Any] = {"max_abs_diff": max(diffs)}
    cal_cache = None
    if options.data_type == "int8":
        images = calibration_images(options.cal_image_dir, plan.images, options.cal_batches * options.cal_batch_size)
        cal_cache, int8_lines, int8_data = _int8(plan, out, ImageBatches(images, plan.preprocess,
                                                                          options.cal_batch_size),
                                                 options, reference, batch)
        lines += int8_lines
        data.update(int8_data)
    lines += _deployment_files(plan, out, options, cal_cache)
    return Result(lines=lines, data=data)


def _parity_batch(plan: ExportPlan, options: ExportOptions, pick: Any) -> np.ndarray:
    images = pick(options.cal_image_dir, plan.images, PARITY_IMAGES) if (plan.images or options.cal_image_dir) \
        else []
    if not images:
        log.warning("no images to check the export on (pass -e or --cal_image_dir); using random inputs")
        return np.random.default_rng(0).random((2, *plan.input_chw), dtype=np.float32)
    batch = np.stack([plan.preprocess(p) for p in images]).astype(np.float32)
    return batch[:1] if options.static_batch_size == 1 else batch


def _int8(plan: ExportPlan, out: Path, batches: Any, options: ExportOptions, reference: list[np.ndarray],
          batch: np.ndarray) -> tuple[Path, list[str], dict[str, Any]]:
    from taokit.optimize.calibration_cache import write_calibration_cache
    from taokit.optimize.int8 import quantize
    from taokit.optimize.verify import max_differences
    from taokit.runtime.tensorrt_import import tensorrt_version

    result = quantize(out, batches, plan.input_name, plan.keep_float)
    version = options.trt_version or tensorrt_version() or "10.3.0"
    cache = options.cal_cache_file or out.with_name("cal.bin")
    write_calibration_cache(cache, result.amax, version)
    diffs = max_differences(reference, result.cpu_onnx, batch[:1] if options.static_batch_size == 1 else batch)
    lines = [f"INT8 for ONNX Runtime (x86, U8S8 per-channel): {result.cpu_onnx}; max abs diff vs FP32 "
             + ", ".join(f"{d:.3f}" for d in diffs),
             f"INT8 for TensorRT (symmetric QDQ): {result.tensorrt_onnx}",
             f"TensorRT calibration cache (TRT {version}, {len(result.amax)} tensors, {batches.batch_size}x"
             f"{len(batches)} images): {cache}"]
    return cache, lines, {"int8_max_abs_diff": max(diffs)}


def _deployment_files(plan: ExportPlan, out: Path, options: ExportOptions, cal_cache: Path | None) -> list[str]:
    lines = []
    if options.gen_ds_config:
        from taokit.deploy.deepstream import write_deepstream_files

        if plan.deepstream is None:
            raise UsageError("--gen_ds_config: this task's models have no DeepStream description")
        files = write_deepstream_files(out.parent, out, plan.deepstream, cal_cache)
        lines.append("DeepStream: " + ", ".join(map(str, files)))
    if options.triton_repo is not None:
        from taokit.deploy.triton import write_triton_repository

        lines.append(f"Triton model repository: {write_triton_repository(options.triton_repo, out.stem, out)}")
    if options.engine_file is not None:
        from taokit.actions.gen_trt_engine import EngineOptions, build

        engine = build(out, plan.input_name, plan.input_chw, EngineOptions(
            data_type=options.data_type, engine_file=options.engine_file, cal_cache_file=cal_cache,
            cal_batch_size=options.cal_batch_size, max_batch=max(1, options.cal_batch_size)), None)
        lines.append(f"TensorRT engine: {engine}")
    return lines
