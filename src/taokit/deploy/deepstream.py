"""DeepStream's Gst-nvinfer files: labels.txt and nvinfer_config.txt (tao.md §3.9, §4.7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from taokit.engine.files import atomic_write_text


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ";".join(_value(v) for v in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def nvinfer_config(properties: dict[str, Any], classes: dict[str, dict[str, Any]]) -> str:
    lines = ["[property]"] + [f"{k}={_value(v)}" for k, v in properties.items()]
    for section, attrs in classes.items():
        lines += ["", f"[{section}]"] + [f"{k}={_value(v)}" for k, v in attrs.items()]
    return "\n".join(lines) + "\n"


def write_deepstream_files(directory: Path, onnx_file: Path, labels: list[str], properties: dict[str, Any],
                           classes: dict[str, dict[str, Any]], cal_cache: Path | None = None) -> list[Path]:
    """Write labels.txt (one class per line, network order) and nvinfer_config.txt next to the model."""
    labels_path, config_path = directory / "labels.txt", directory / "nvinfer_config.txt"
    atomic_write_text(labels_path, "".join(f"{name}\n" for name in labels))
    props = {**properties, "onnx-file": onnx_file.name, "labelfile-path": labels_path.name,
             "network-mode": 1 if cal_cache else 0}
    if cal_cache is not None:
        props["int8-calib-file"] = cal_cache.name if cal_cache.parent == directory else str(cal_cache)
    atomic_write_text(config_path, nvinfer_config(props, classes))
    return [labels_path, config_path]
