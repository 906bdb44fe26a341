"""Export to ONNX with fixed tensor names (legacy exporter, explicit opset) and check the result."""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

import onnx
import torch

from taokit.engine.files import atomic_write_bytes
from taokit.errors import ExportError
from taokit.optimize.plan import ExportPlan

log = logging.getLogger("taokit.export")


def export_onnx(plan: ExportPlan, path: Path, opset: int = 17, static_batch: int = -1) -> onnx.ModelProto:
    """Write `plan.model` as ONNX: one input, named outputs, a dynamic batch unless `static_batch` > 0.

    The TorchScript exporter (`dynamo=False`) is chosen explicitly: it writes the requested opset 17,
    which TensorRT 10 and DeepStream expect; the dynamo exporter only emits opset 18 and up.
    """
    model = plan.model.eval().cpu()
    batch = static_batch if static_batch > 0 else 1
    example = torch.zeros(batch, *plan.input_chw)
    dynamic = None
    if static_batch <= 0:
        dynamic = {plan.input_name: {0: "batch"}, **{name: {0: "batch"} for name in plan.output_names}}
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's deprecation notice is about our deliberate choice
        torch.onnx.export(model, (example,), buffer, dynamo=False, opset_version=opset,
                          input_names=[plan.input_name], output_names=list(plan.output_names),
                          dynamic_axes=dynamic, do_constant_folding=True)
    proto = onnx.load_from_string(buffer.getvalue())
    with torch.no_grad():
        outputs = model(example)
    _state_output_shapes(proto, [o.shape for o in (outputs if isinstance(outputs, (tuple, list)) else [outputs])])
    for key, value in {"producer": "taokit", **plan.metadata}.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as err:
        raise ExportError(f"{path}: the exported ONNX does not pass onnx.checker "
                          f"({str(err).splitlines()[0][:160]})") from None
    atomic_write_bytes(path, proto.SerializeToString())
    return proto


def _state_output_shapes(proto: onnx.ModelProto, shapes: list[torch.Size]) -> None:
    """Write the outputs' static dims (all but the batch) as PyTorch computed them.

    The TorchScript exporter's shape inference mislabels the spatial dims after a Pad (an imported model's
    explicit TF-style pads) as dynamic; DeepStream and TensorRT users expect `3x34x60`, so the dims are
    stated from the traced forward, and the stale intermediate shapes are dropped.
    """
    del proto.graph.value_info[:]
    for value, shape in zip(proto.graph.output, shapes, strict=True):
        dims = value.type.tensor_type.shape.dim
        for dim, size in list(zip(dims, shape, strict=False))[1:]:
            dim.dim_value = int(size)
