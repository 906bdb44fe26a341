"""Which device an evaluate/inference run uses, from --device, --gpus and --gpu_index."""

from __future__ import annotations

from typing import Any


def device_for(device: str | None, session: Any) -> str | None:
    """`--device` wins; `--gpus 0` forces the CPU; `--gpu_index I` picks cuda:I where there is a GPU
    (TAO scripts pass `--gpu_index 0` everywhere, so on a CPU machine it is not an error); None lets the
    backend choose."""
    if device:
        return device
    if session.gpus == 0:
        return "cpu"
    if session.gpu_index:
        import torch

        return f"cuda:{session.gpu_index[0]}" if torch.cuda.is_available() else None
    return None
