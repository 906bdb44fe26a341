"""Where the spec a model was trained with is recorded, so evaluate/inference/export can run without -e.

Training stores it in every model file (`"spec"`), export copies it into the ONNX metadata, and the
run's experiment.yaml holds it too (for a model copied out of its file, e.g. a TensorRT engine beside it).
A record is `{"task", "kind", "yaml"}`: the spec as the user set it (overrides applied), in YAML.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from taokit.engine.run_dir import EXPERIMENT_FILE

SPEC_METADATA_KEY = "taokit.spec"  # the record's JSON in exported ONNX metadata


def read_spec_record(model_path: Path) -> tuple[dict[str, str], str] | None:
    """(record, where it was found) for a model file, or None when nothing recorded its spec."""
    record = _from_file(model_path)
    if record is not None:
        return record, str(model_path)
    for directory in (model_path.parent, model_path.parent.parent):
        experiment = directory / EXPERIMENT_FILE
        if experiment.is_file():
            found = _from_experiment(experiment)
            if found is not None:
                return found, str(experiment)
    return None


def _from_file(path: Path) -> dict[str, str] | None:
    suffix = path.suffix.lower()
    try:
        if suffix in (".pth", ".pt"):
            from taokit.engine.checkpoint import load_file

            return _valid(load_file(path).get("spec"))
        if suffix == ".onnx":
            import onnx

            model = onnx.load(str(path), load_external_data=False)
            props = {p.key: p.value for p in model.metadata_props}
            return _valid(json.loads(props[SPEC_METADATA_KEY])) if SPEC_METADATA_KEY in props else None
    except Exception:  # noqa: BLE001 - an unreadable file is reported when the action opens it
        return None
    return None


def _from_experiment(path: Path) -> dict[str, str] | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    return _valid(data.get("spec")) if isinstance(data, dict) else None


def _valid(record: Any) -> dict[str, str] | None:
    if isinstance(record, dict) and isinstance(record.get("yaml"), str):
        return {k: str(v) for k, v in record.items()}
    return None
