"""Which device a job runs on: from --device, --gpus, --gpu_index and the DDP local rank."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from taokit.errors import DependencyError, UsageError


def requested_device(device: str | None, gpus: int, gpu_index: Sequence[int]) -> str | None:
    """The device the command line asks for, or None to let the runtime choose.

    `--device` wins; `--gpus 0` forces the CPU; `--gpu_index I` asks for cuda:I where there is a GPU
    (TAO scripts pass `--gpu_index 0` everywhere, so on a CPU machine it is not an error).
    """
    if device:
        return device
    if gpus == 0:
        return "cpu"
    if gpu_index and torch.cuda.is_available():
        return f"cuda:{gpu_index[0]}"
    return None


def pick_device(requested: str | None = None, *, gpu_index: Sequence[int] = (), local_rank: int | None = None,
                cuda_only: bool = False) -> torch.device:
    """Resolve a device: `requested` if usable; else the local rank's GPU under DDP, --gpu_index[0] or
    cuda:0; else the CPU. `cuda_only` is for runtimes that cannot run anywhere else (TensorRT)."""
    if requested:
        try:
            device = torch.device(requested)
        except RuntimeError:
            raise UsageError(f"--device {requested}: expected cpu, cuda or cuda:N") from None
        if cuda_only and device.type != "cuda":
            raise UsageError(f"--device {requested}: TensorRT engines run only on a CUDA GPU; run the .onnx "
                             "with --backend onnxruntime on a CPU")
        if device.type == "cuda" and not torch.cuda.is_available():
            raise UsageError(f"--device {requested}: no CUDA GPU is available here; use --device cpu")
        return device
    if torch.cuda.is_available():
        index = local_rank if local_rank is not None else (gpu_index[0] if gpu_index else 0)
        return torch.device("cuda", index)
    if cuda_only:
        raise DependencyError("running a TensorRT engine needs an NVIDIA GPU and none is visible here "
                              "(torch.cuda.is_available() is False); use the .onnx with onnxruntime instead")
    return torch.device("cpu")
