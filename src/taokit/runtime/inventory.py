"""What this machine can run on: torch devices, ONNX Runtime providers, TensorRT, Docker."""

from __future__ import annotations

import importlib.util
from typing import Any

from taokit.errors import first_line
from taokit.runtime.tensorrt_import import INSTALL_HINT, import_tensorrt


def torch_info() -> dict[str, Any]:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return {"installed": False}
    devices = []
    if torch.cuda.is_available():
        devices = [f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())]
    return {"installed": True, "version": torch.__version__, "cuda_build": torch.version.cuda,
            "cuda_devices": devices, "threads": torch.get_num_threads()}


def onnxruntime_info() -> dict[str, Any]:
    try:
        import onnxruntime as ort
    except ImportError:
        return {"installed": False}
    return {"installed": True, "version": ort.__version__, "providers": ort.get_available_providers()}


def openvino_info() -> dict[str, Any]:
    """OpenVINO's version and what its CPU plugin found (the optional `openvino` extra)."""
    if importlib.util.find_spec("openvino") is None:
        return {"installed": False, "hint": "pip install 'taokit[openvino]'"}
    try:
        import openvino as ov

        capabilities = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        return {"installed": True, "version": ov.get_version().split("-")[0], "capabilities": list(capabilities)}
    except Exception as err:  # noqa: BLE001 - a broken install is reported, not raised
        return {"installed": False, "error": first_line(err)}


# The instruction sets that decide CPU inference speed, from widest to narrowest (Linux's /proc/cpuinfo names).
ISA_FLAGS = ("amx_int8", "avx512_bf16", "avx512_vnni", "avx512f", "avx_vnni", "avx2")


def cpu_isa() -> list[str]:
    """Which of ISA_FLAGS this CPU has (empty where /proc/cpuinfo cannot be read)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = next((line.split(":", 1)[1].split() for line in handle if line.startswith("flags")), [])
    except OSError:
        return []
    return [f for f in ISA_FLAGS if f in flags]


def tensorrt_info() -> dict[str, Any]:
    if importlib.util.find_spec("tensorrt") is None:
        return {"installed": False, "hint": INSTALL_HINT}
    try:
        return {"installed": True, "version": import_tensorrt("building and running engines").__version__}
    except Exception as err:  # noqa: BLE001 - a broken install is reported, not raised
        return {"installed": False, "error": first_line(err)}


def docker_info(timeout_s: float = 2.0) -> dict[str, Any]:
    try:
        import docker
    except ImportError:
        return {"reachable": False, "error": "docker SDK not installed"}
    try:
        client = docker.from_env(timeout=timeout_s)
        version = client.version()
        runtimes = client.info().get("Runtimes") or {}
        images = sorted(tag for image in client.images.list() for tag in image.tags if "taokit" in tag)
        client.close()
        return {"reachable": True, "version": version.get("Version", "?"), "images": images,
                "gpus": "nvidia" in runtimes}
    except Exception as err:  # noqa: BLE001 - any failure means "not reachable"
        return {"reachable": False, "error": first_line(err, 120)}
