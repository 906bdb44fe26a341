"""Checks on a model path before anything opens it, with the hints TAO users need.

TAO names its models `model.tlt` / `model.hdf5` (encrypted Keras) or `.etlt`; taokit writes `model.pth`.
A TAO command line typed as in a tutorial (`-m results/weights/model.tlt`) runs on taokit's `model.pth`
beside it; a real NVIDIA file gets a one-line explanation of what to do with it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from taokit.errors import ModelError

log = logging.getLogger(__name__)

TAO_MODEL_SUFFIXES = (".tlt", ".hdf5", ".h5", ".etlt", ".tltb")


def resolve_model_file(path: Path | str) -> Path:
    """The file an action opens for -m `path`: itself, or taokit's X.pth where TAO's X.tlt/.hdf5/.etlt does
    not exist (the seeds' scripts name the file TAO would have written); checked like check_model_file.
    A remote source (ngc://, torchvision://, https://) is fetched into the cache first."""
    from taokit.hub.sources import fetch

    path = fetch(path, "-m")
    if path.suffix.lower() in TAO_MODEL_SUFFIXES and not path.exists():
        pth = path.with_suffix(".pth")
        if pth.is_file():
            log.info("%s does not exist; using taokit's model %s beside it", path, pth)
            return pth
    check_model_file(path)
    return path


def default_output(source: Path | str, resolved: Path, suffix: str) -> Path:
    """An action's output beside its model; for a model fetched by name, in the working directory (not the cache)."""
    from taokit.hub.sources import is_remote

    return Path(resolved.name).with_suffix(suffix) if is_remote(source) else resolved.with_suffix(suffix)


def check_model_file(path: Path) -> None:
    """Raise a one-line ModelError unless `path` is an existing file taokit could open."""
    if path.is_dir():
        raise ModelError(f"{path}: is a directory, expected a model file")
    suffix = path.suffix.lower()
    if suffix in TAO_MODEL_SUFFIXES:
        pth = path.with_suffix(".pth")
        if not path.exists() and pth.is_file():
            raise ModelError(f"{path}: taokit writes PyTorch models; use -m {pth}")
        if path.is_file() and suffix in (".hdf5", ".h5"):
            raise ModelError(f"{path}: a TAO Keras model; import it first (TAO 5, unencrypted): "
                             f"tao <task> import -m {path} -o {pth} --labels labels.txt")
        if path.is_file():
            raise ModelError(f"{path}: a TAO {suffix} model (TensorFlow, encrypted); taokit cannot read it. Use "
                             "NVIDIA's deployable .onnx of the model (it runs as it is, or `tao <task> import` it), "
                             "or train with taokit")
        raise ModelError(f"{path}: file not found (taokit names its models .pth, e.g. {pth.name})")
    if not path.exists():
        raise ModelError(f"{path}: model file not found")
