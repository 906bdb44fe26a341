"""The one place that imports TensorRT: an optional, heavy dependency that only a GPU machine has."""

from __future__ import annotations

from types import ModuleType

from taokit.errors import DependencyError, first_line

INSTALL_HINT = "pip install 'taokit[tensorrt]' on the deployment machine"


def import_tensorrt(purpose: str) -> ModuleType:
    """`import tensorrt`, or a DependencyError saying what `purpose` needs and how to get it."""
    try:
        import tensorrt
    except (ImportError, OSError) as err:  # OSError: a wheel whose CUDA libraries are missing
        raise DependencyError(f"{purpose} needs TensorRT and an NVIDIA GPU: {INSTALL_HINT} "
                              f"({first_line(err, 120)})") from None
    return tensorrt


def tensorrt_version() -> str | None:
    """The installed TensorRT's version, or None (never raises: callers only use it as a default)."""
    try:
        return str(import_tensorrt("").__version__)
    except Exception:  # noqa: BLE001 - a broken install must not stop export or `tao info`
        return None
