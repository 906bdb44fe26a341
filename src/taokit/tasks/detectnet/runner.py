"""Open a DetectNet_v2 model on any backend and learn its classes, input size and bbox encoding."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taokit.errors import ModelError
from taokit.models.tao_import.layers import cov_bbox_order
from taokit.runtime.base import Backend, ModelIO, output_index
from taokit.runtime.select import open_backend
from taokit.tasks.common.runner import Runner, model_io
from taokit.tasks.detectnet.model import INPUT_NAME, OUTPUT_NAMES, DetectNetArch, DetectNetV2
from taokit.tasks.detectnet.network import load_model


@dataclass(frozen=True)
class ModelInfo:
    class_names: tuple[str, ...]
    input_hw: tuple[int, int]
    scale: float = 35.0
    offset: float = 0.5


def load_torch(path: Path) -> tuple[DetectNetV2, ModelIO]:
    """A .pth model as the .pth backend runs it: same tensor names and metadata as the exported ONNX."""
    model, _ = load_model(path)
    return model, model_io(model.arch, INPUT_NAME, OUTPUT_NAMES, model.arch.input_hw)


def head_indices(io: ModelIO) -> tuple[int, int] | None:
    """Where the coverage and bbox heads are among the outputs; None when the model does not say yet.

    Names decide when both are there (with or without TensorFlow's `:0`, in any order: NGC's files put
    bbox first); otherwise two outputs with C and 4C channels are the heads, as tao_deploy picks them.
    """
    cov, bbox = (output_index(io, name) for name in OUTPUT_NAMES)
    if cov is not None and bbox is not None:
        return cov, bbox
    channels = io.output_channels
    if len(io.output_names) == 2 and len(channels) == 2 and channels[0] and channels[1]:
        return cov_bbox_order(channels[0], channels[1])
    return None


def _not_detectnet(path: Path, io: ModelIO) -> ModelError:
    found = ", ".join(f"{n} ({c} channels)" if c else n for n, c in zip(io.output_names, io.output_channels or
                                                                          [None] * len(io.output_names), strict=False))
    return ModelError(f"{path}: not a DetectNet_v2 model: outputs are {found}; expected output_cov/Sigmoid "
                      "(C channels) and output_bbox/BiasAdd (4C channels), with or without ':0', in any order")


class DetectNetRunner(Runner):
    """A backend plus what its outputs mean; `predict` returns (coverage, bbox) for a float NCHW batch."""

    def __init__(self, backend: Backend, info: ModelInfo, path: Path) -> None:
        super().__init__(backend, OUTPUT_NAMES)
        self.info, self.path = info, path
        # (coverage, bbox) output positions; None while the ONNX leaves channels dynamic: the first batch says
        self.heads = head_indices(backend.io)

    def predict(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.heads is None:
            outputs = self.run_all(batch)
            indices = cov_bbox_order(outputs[0].shape[1], outputs[1].shape[1]) if len(outputs) == 2 else None
            if indices is None:
                raise _not_detectnet(self.path, self.backend.io)
            classes = outputs[indices[0]].shape[1]
            if classes != len(self.info.class_names):
                raise ModelError(f"{self.path}: the model detects {classes} classes and the spec names "
                                 f"{len(self.info.class_names)}; list the model's classes in network order")
            self.heads = indices
            return outputs[indices[0]], outputs[indices[1]]
        outputs = self.run_all(batch)
        return outputs[self.heads[0]], outputs[self.heads[1]]


def open_runner(path: Path, *, backend: str | None = None, device: str | None = None,
                class_names: list[str] | None = None, input_hw: tuple[int, int] | None = None) -> DetectNetRunner:
    """Open a .pth/.onnx/.engine DetectNet model; specs may supply what a foreign model does not say."""
    opened = open_backend(path, load_torch=load_torch, backend=backend, device=device)
    io = opened.io
    heads = head_indices(io)
    channels_unknown = len(io.output_names) == 2 and None in (io.output_channels or (None,))
    try:
        if heads is None and not channels_unknown:
            raise _not_detectnet(path, io)
        info = _model_info(path, io, class_names, input_hw)
        cov_channels = io.output_channels[heads[0]] if heads is not None and io.output_channels else None
        if cov_channels and cov_channels != len(info.class_names):
            raise ModelError(f"{path}: the model detects {cov_channels} classes and the spec names "
                             f"{len(info.class_names)} ({', '.join(info.class_names)}); list the model's classes "
                             "in network order (NGC's labels.txt)")
    except ModelError:
        opened.close()
        raise
    return DetectNetRunner(opened, info, path)


def _model_info(path: Path, io: ModelIO, class_names: list[str] | None,
                input_hw: tuple[int, int] | None) -> ModelInfo:
    arch = DetectNetArch.from_metadata(io.metadata)
    if arch is not None:
        if class_names and list(arch.class_names) != list(class_names):
            raise ModelError(f"{path}: the model's classes {list(arch.class_names)} differ from the spec's "
                             f"{list(class_names)} (same names in the same order are needed)")
        return ModelInfo(arch.class_names, arch.input_hw, arch.bbox_scale, arch.bbox_offset)
    _, h, w = io.input_chw
    hw = (h, w) if h and w else input_hw
    if hw is None:
        raise ModelError(f"{path}: the model has a dynamic input size; give image_height/image_width in the spec")
    if not class_names:
        raise ModelError(f"{path}: the model does not name its classes; give inferencer_config.target_classes "
                         "in network order")
    return ModelInfo(tuple(class_names), (int(hw[0]), int(hw[1])))
