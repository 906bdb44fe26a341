"""What a task hands to export: the network, its tensor names, its preprocessing and its deployment facts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
from torch import nn

from taokit.deploy.deepstream import DeepStreamConfig

M = TypeVar("M", bound=nn.Module)


@dataclass
class ExportPlan:
    """Everything export, INT8 calibration and the deployment files need, with no task code in them.

    `preprocess` turns an image file into the network's input (CHW float32) exactly as in training;
    `images` are the default calibration and parity images (the training set), possibly empty.
    `deepstream` is what DeepStream's nvinfer needs to run the exported file.
    """

    model: nn.Module
    input_name: str
    output_names: tuple[str, ...]
    input_chw: tuple[int, int, int]
    labels: list[str]
    preprocess: Callable[[Path], np.ndarray]
    images: list[Path] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    deepstream: DeepStreamConfig | None = None
    keep_float: list[str] = field(default_factory=list)  # ONNX node names INT8 should leave in float


@dataclass(frozen=True)
class CalibrationSource:
    """How INT8 calibration images become network inputs, and which images to use by default."""

    preprocess: Callable[[Path], np.ndarray]  # image file -> CHW float32, exactly as in training
    images: list[Path] = field(default_factory=list)  # the training set, possibly empty


@dataclass
class PruneTarget:
    """What prune needs from a task: the network, an example input, the layers it must not narrow
    (by name: heads always, plus the user's -el), and how to write the result as a model file."""

    model: nn.Module
    example_input: Any
    protected: list[str]
    payload: Callable[[nn.Module], dict[str, Any]]
    retrain_hint: str = "retrain it by training from it"  # which spec keys point a retrain at the file

    @classmethod
    def for_image_model(cls, model: M, protected: list[str], payload: Callable[[M], dict[str, Any]],
                        retrain_hint: str) -> PruneTarget:
        """A network with an `arch.input_hw` record, traced with one zero image of that size."""
        import torch

        h, w = cast(Any, model).arch.input_hw  # an nn.Module attribute: Module.__getattr__ types it as a Tensor
        # prune hands `payload` the model it was given, pruned in place: the same class
        return cls(model, torch.zeros(1, 3, h, w), protected, cast(Callable[[nn.Module], dict[str, Any]], payload),
                   retrain_hint)


@dataclass(frozen=True)
class ImportedModel:
    """What import needs from a task: the network as its exported ONNX computes it (`runnable`: eval mode,
    the task's outputs), the model file body, and a retraining hint."""

    runnable: nn.Module
    payload: dict[str, Any]
    next_steps: str
