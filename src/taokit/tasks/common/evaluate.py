"""What every task's `evaluate` shares: which samples to score, the model's input size against the spec's, and
metrics.json. A task brings its readers, its metric and its table."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from taokit.engine.files import atomic_write_text
from taokit.errors import DataError, ModelError, UsageError
from taokit.requests import EvaluateRequest

log = logging.getLogger("taokit.evaluate")
S = TypeVar("S")


class Warns(Protocol):
    def warnings(self) -> list[str]: ...


Read = Callable[[], tuple[Sequence[S], Warns]]


def evaluation_samples(request: EvaluateRequest, *, labelled: Callable[[Path, Path], tuple[Sequence[S], Warns]],
                       training: Read[S], validation: Read[S], validation_keys: str) -> list[S]:
    """-i with -l, else --use_training_set's training split, else the spec's validation data; what the
    readers found wrong is logged. `validation_keys` names the spec keys that give validation data."""
    if request.image_dir is not None:
        if request.label_dir is None:
            raise UsageError("-i/--image_dir needs -l/--label_dir with the labels of those images")
        samples, report = labelled(Path(request.image_dir), Path(request.label_dir))
    elif request.use_training_set:
        samples, report = training()
    else:
        samples, report = validation()
        if not samples:
            raise DataError(f"no validation images: set {validation_keys}, use --use_training_set, or pass -i and -l")
    for warning in report.warnings():
        log.warning(warning)
    return list(samples)


def check_input_size(model_path: Path | str, model_hw: Sequence[int], spec_hw: Sequence[int]) -> None:
    """A model runs at the size it was built for; a spec that says otherwise is a mistake to name, not resize."""
    if tuple(model_hw) != tuple(spec_hw):
        raise ModelError(f"{model_path}: the model takes {model_hw[1]}x{model_hw[0]} images, the spec "
                         f"{spec_hw[1]}x{spec_hw[0]}; give the spec it was trained with (or none: the model "
                         "file records it)")


def write_metrics(results_dir: Path, metrics: dict[str, Any]) -> Path:
    """metrics.json in the results directory (created), replaced atomically."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / "metrics.json"
    atomic_write_text(path, json.dumps(metrics, indent=2) + "\n")
    return path
