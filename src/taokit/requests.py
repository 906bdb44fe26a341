"""What actions hand to tasks: the session every command starts, and one request per task action.

These sit beside results.py and errors.py so that the CLI, the actions and the tasks all import the
same types; the CLI fills them, actions pass them on, tasks read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from taokit.errors import UsageError

DATA_TYPES = ("fp32", "fp16", "int8")  # export's and gen_trt_engine's --data_type


def check_data_type(value: str) -> None:
    if value not in DATA_TYPES:
        raise UsageError(f"--data_type {value}: choose {', '.join(DATA_TYPES[:-1])} or {DATA_TYPES[-1]}")


@dataclass(frozen=True)
class Session:
    """The flags every action command takes, after validation."""

    results_dir: Path | None = None
    overrides: list[str] = field(default_factory=list)
    gpus: int = 1
    gpu_index: list[int] = field(default_factory=list)
    use_amp: bool = False
    verbose: bool = False
    log_file: Path | None = None


@dataclass(frozen=True)
class ModelRequest:
    """What evaluate and inference share: which model, on which runtime and device, how strictly."""

    model_path: Path  # -m, or the model the spec names (the action resolves and checks it)
    results_dir: Path | None = None
    batch_size: int | None = None
    backend: str | None = None  # torch, onnxruntime or tensorrt; None: by the model file's suffix
    device: str | None = None  # cpu, cuda or cuda:N; None: the backend's choice
    strict: bool = False  # corrupt images are errors instead of counted warnings
    classmap: Path | None = None  # TAO's -cm: the class order of a model that does not name its classes


@dataclass(frozen=True)
class EvaluateRequest(ModelRequest):
    """evaluate: metrics of a model on the spec's validation data, or on the images given here."""

    image_dir: Path | None = None
    label_dir: Path | None = None
    use_training_set: bool = False


@dataclass(frozen=True)
class InferenceRequest(ModelRequest):
    """inference: outputs for `inputs` (an image, a directory, a glob or a video) under results_dir."""

    inputs: str = ""
