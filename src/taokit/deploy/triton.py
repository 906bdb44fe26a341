"""A Triton Inference Server model repository: <repo>/<name>/config.pbtxt and <repo>/<name>/1/model.onnx."""

from __future__ import annotations

import shutil
from pathlib import Path

import onnx

from taokit.engine.files import atomic_path, atomic_write_text
from taokit.errors import ExportError

_TYPES = {onnx.TensorProto.FLOAT: "TYPE_FP32", onnx.TensorProto.FLOAT16: "TYPE_FP16",
          onnx.TensorProto.INT64: "TYPE_INT64", onnx.TensorProto.INT32: "TYPE_INT32"}


def _dims(value: onnx.ValueInfoProto) -> tuple[bool, list[int]]:
    dims = value.type.tensor_type.shape.dim
    batch_dynamic = not dims[0].HasField("dim_value")
    return batch_dynamic, [d.dim_value if d.HasField("dim_value") else -1 for d in dims]


def _entry(value: onnx.ValueInfoProto, drop_batch: bool) -> str:
    _, dims = _dims(value)
    shape = dims[1:] if drop_batch else dims
    dtype = _TYPES.get(value.type.tensor_type.elem_type, "TYPE_FP32")
    return f'  {{\n    name: "{value.name}"\n    data_type: {dtype}\n    dims: [ {", ".join(map(str, shape))} ]\n  }}'


def _tensors(kind: str, values: list[onnx.ValueInfoProto], drop_batch: bool) -> str:
    return f"{kind} [\n" + ",\n".join(_entry(v, drop_batch) for v in values) + "\n]"


def write_triton_repository(repo: Path, model_name: str, onnx_file: Path, max_batch_size: int = 16) -> Path:
    """Copy the ONNX model into a repository Triton loads as-is; returns the model's directory."""
    model = onnx.load(str(onnx_file), load_external_data=False)
    if len(model.graph.input) != 1:
        raise ExportError(f"{onnx_file}: a Triton config needs exactly one input")
    dynamic, _ = _dims(model.graph.input[0])
    batch = max_batch_size if dynamic else 0
    body = [f'name: "{model_name}"', 'platform: "onnxruntime_onnx"', f"max_batch_size: {batch}",
            _tensors("input", [model.graph.input[0]], dynamic), _tensors("output", list(model.graph.output), dynamic)]
    if dynamic:
        body.append("dynamic_batching { }")
    directory = repo / model_name
    (directory / "1").mkdir(parents=True, exist_ok=True)
    with atomic_path(directory / "1" / "model.onnx") as tmp:
        shutil.copyfile(onnx_file, tmp)
    atomic_write_text(directory / "config.pbtxt", "\n".join(body) + "\n")
    return directory
