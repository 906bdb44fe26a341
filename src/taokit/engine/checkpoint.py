"""Model and checkpoint files: plain dicts of tensors and builtins, written atomically, loaded weights-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from taokit.engine.files import atomic_path
from taokit.engine.model_files import check_model_file
from taokit.errors import ModelError, ResultsDirError

FORMAT = "taokit"
FORMAT_VERSION = 1


def save_file(path: Path, payload: dict[str, Any], kind: str) -> None:
    """Write a model (`kind="model"`) or training checkpoint (`kind="checkpoint"`) atomically."""
    data = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind, **payload}
    with atomic_path(path) as tmp:
        try:
            torch.save(data, tmp)
        except (RuntimeError, OSError) as err:  # torch's zip writer reports a full disk as a RuntimeError
            raise ResultsDirError(f"{path}: could not be written ({_why(err, path)}); the previous files are "
                                  "intact: free space or choose another -r, then run the same command again") from None


def load_file(path: Path, *, task: str | None = None) -> dict[str, Any]:
    """Load a taokit .pth with `torch.load(weights_only=True)`; any problem is a one-line ModelError."""
    check_model_file(path)
    if path.suffix.lower() == ".onnx":
        raise ModelError(f"{path}: an ONNX file, and this action works on taokit .pth models; import it first "
                         f"(tao {task or '<task>'} import -m {path} -o {path.with_suffix('.pth').name} "
                         "--labels labels.txt), or run it as it is with inference, evaluate or benchmark")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - a corrupt file can fail in any of torch's layers
        text = str(err).strip()
        reason = text.splitlines()[0] if text else type(err).__name__
        if "Weights only load failed" in reason:  # torch's long explanation; the gist is enough
            reason = "torch cannot read it as a weights-only file"
        raise ModelError(f"{path}: not a readable taokit model file (corrupt or another format: "
                         f"{reason[:160]})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{path}: not a taokit model file (no taokit header); export or train it with taokit")
    if task is not None and data.get("task") != task:
        raise ModelError(f"{path}: is a {data.get('task')} model, not a {task} model")
    return data


def find_latest_checkpoint(directory: Path) -> Path | None:
    """The checkpoint with the highest epoch in `directory` (files named epoch_NNN.pth)."""
    if not directory.is_dir():
        return None
    found = sorted(directory.glob("epoch_*.pth"), key=lambda p: int(p.stem.split("_")[1]) if
                   p.stem.split("_")[1].isdigit() else -1)
    return found[-1] if found else None


def _why(err: BaseException, path: Path) -> str:
    import shutil

    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        free = -1
    if 0 <= free < 64 * 1024 * 1024 or "No space left" in str(err) or getattr(err, "errno", None) == 28:
        return f"no space left on the device: {free // (1024 * 1024)} MB free"
    return str(err).strip().splitlines()[0][:120] if str(err).strip() else type(err).__name__
