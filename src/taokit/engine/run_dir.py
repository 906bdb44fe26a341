"""The results directory of a training run: resume only the same experiment, never mix two."""

from __future__ import annotations

import os
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
    make_results_dir(results_dir)
    content = {"experiment": experiment, "resumable": resumable, **({"spec": spec_record} if spec_record else {})}
    atomic_write_text(record, yaml.safe_dump(content, sort_keys=False))


def record_sources(results_dir: Path, sources: list[dict[str, str]]) -> None:
    """Add the models fetched by name (source, local file, SHA-256) to experiment.yaml: what the run started from."""
    record = results_dir / EXPERIMENT_FILE
    content = (yaml.safe_load(record.read_text(encoding="utf-8")) or {}) if record.exists() else {}
    content["sources"] = sources
    atomic_write_text(record, yaml.safe_dump(content, sort_keys=False))


def make_results_dir(results_dir: Path) -> None:
    """Create the results directory, or say in one line why it cannot be."""
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ResultsDirError(f"{results_dir}: a file is in the way of the results directory; choose another -r") \
            from None
    except OSError as err:
        raise ResultsDirError(f"{results_dir}: cannot create the results directory ({err.strerror}); choose a "
                              "folder you can write with -r") from None
    if not os.access(results_dir, os.W_OK):
        raise ResultsDirError(f"{results_dir}: the results directory is not writable by this user; choose another -r "
                              "or fix its owner")


class ResultsDirLock:
    """One training run per results directory: a lock that the kernel drops when the process ends (also on
    SIGKILL), so a killed run never leaves it stuck."""

    def __init__(self, results_dir: Path) -> None:
        import fcntl

        make_results_dir(results_dir)
        self.path = results_dir / ".taokit.lock"
        self.handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            self.handle.close()
            raise ResultsDirError(f"{results_dir} is in use by another taokit run ({holder}); wait for it to end "
                                  "or choose another -r") from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"pid {os.getpid()}")
        self.handle.flush()

    def release(self) -> None:
        self.handle.close()
