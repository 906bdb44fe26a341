"""Run a torch module as a Backend (the .pth path): same inputs and outputs as its exported ONNX."""

from __future__ import annotations

import numpy as np
import torch

from taokit.runtime.base import ModelIO


class TorchBackend:
    name = "torch"

    def __init__(self, model: torch.nn.Module, io: ModelIO, device: torch.device) -> None:
        # channels-last lets oneDNN/cuDNN pick faster convolution kernels (about 20% on a CPU here).
        self.model = model.to(device).eval().to(memory_format=torch.channels_last)
        self.io = io
        self.device = device

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        with torch.inference_mode():
            outputs = self.model(torch.from_numpy(np.ascontiguousarray(batch)).to(self.device))
        if isinstance(outputs, torch.Tensor):
            outputs = (outputs,)
        return [o.float().cpu().numpy() for o in outputs]

    def close(self) -> None:
        self.model.cpu()
