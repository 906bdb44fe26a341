"""Exported models check themselves: ONNX Runtime's outputs against PyTorch's on real images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from taokit.optimize.plan import ExportPlan
from taokit.runtime.ort_backend import OrtBackend


def torch_outputs(plan: ExportPlan, batch: np.ndarray) -> list[np.ndarray]:
    with torch.no_grad():
        outputs = plan.model.eval().cpu()(torch.from_numpy(batch))
    outputs = (outputs,) if isinstance(outputs, torch.Tensor) else outputs
    return [o.float().numpy() for o in outputs]


def max_differences(reference: list[np.ndarray], onnx_path: Path, batch: np.ndarray) -> list[float]:
    """Max |ONNX Runtime - reference| per output, running `onnx_path` on the CPU."""
    backend = OrtBackend(onnx_path, "cpu")
    try:
        produced = backend.infer(batch)
    finally:
        backend.close()
    return [float(np.max(np.abs(a - b))) for a, b in zip(reference, produced, strict=True)]
