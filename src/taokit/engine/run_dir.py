"""The results directory of a training run: resume only the same experiment, never mix two."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from taokit.engine.files import atomic_write_text
from taokit.errors import ResultsDirError

EXPERIMENT_FILE = "experiment.yaml"


def _first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}{key}"
            diff = _first_difference(a[key], b[key], f"{path}{key}.")
            if diff:
                return diff
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            diff = _first_difference(x, y, f"{path.rstrip('.')}[{i}].")
            if diff:
                return diff
        return None
    return None if a == b else path.rstrip(".")


def _lookup(data: Any, dotted: str) -> Any:
    for part in dotted.replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("["):
            data = data[int(part[1:-1])]
        else:
            data = data.get(part) if isinstance(data, dict) else None
    return data


def claim_results_dir(results_dir: Path, experiment: dict[str, Any], resumable: dict[str, Any],
                      has_checkpoints: bool, spec_record: dict[str, str] | None = None) -> None:
    """Record the experiment in `results_dir`, refusing if it holds checkpoints of another one.

    Args:
        experiment: the full resolved spec, written to experiment.yaml for the record.
        resumable: the part of the spec that must match to resume (e.g. without num_epochs).
        has_checkpoints: whether the directory already holds checkpoints of a run.
        spec_record: the spec as the user wrote it (tasks.common.spec_record), for runs without -e.
    """
    record = results_dir / EXPERIMENT_FILE
    if record.exists() and has_checkpoints:
        previous = yaml.safe_load(record.read_text(encoding="utf-8")) or {}
        key = _first_difference(previous.get("resumable", {}), resumable)
        if key is not None:
            raise ResultsDirError(
                f"{results_dir} holds checkpoints of a different experiment ({key}: "
                f"{_lookup(previous.get('resumable', {}), key)!r} there, {_lookup(resumable, key)!r} now); "
                f"use another -r, or delete {results_dir / 'checkpoints'} to start over")
    results_dir.mkdir(parents=True, exist_ok=True)
    content = {"experiment": experiment, "resumable": resumable, **({"spec": spec_record} if spec_record else {})}
    atomic_write_text(record, yaml.safe_dump(content, sort_keys=False))
