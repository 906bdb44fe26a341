"""DeepStream's Gst-nvinfer files: labels.txt and nvinfer_config.txt (tao.md §3.9, §4.7)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from taokit.engine.files import atomic_write_text


@dataclass(frozen=True)
class DeepStreamConfig:
    """What DeepStream needs to know of a model, from `export` or from `gen_trt_engine` on any ONNX:
    labels.txt's lines (one class per line; a classifier's one `a;b;c` line), nvinfer's `[property]` entries
    and its `[class-attrs-*]` sections."""

    labels: list[str]
    properties: dict[str, Any]
    class_sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def with_properties(self, **changes: Any) -> DeepStreamConfig:
        return replace(self, properties={**self.properties, **changes})


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ";".join(_value(v) for v in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


COMMENT = "#"  # a property key starting with it is written as a comment line: `# <value>`


def _line(key: str, value: Any) -> str:
    return f"# {value}" if key.startswith(COMMENT) else f"{key}={_value(value)}"


def nvinfer_config(properties: dict[str, Any], classes: dict[str, dict[str, Any]]) -> str:
    lines = ["[property]"] + [_line(k, v) for k, v in properties.items()]
    for section, attrs in classes.items():
        lines += ["", f"[{section}]"] + [f"{k}={_value(v)}" for k, v in attrs.items()]
    return "\n".join(lines) + "\n"


def _relative(path: Path, directory: Path) -> str:
    """How nvinfer_config.txt in `directory` names `path` (nvinfer resolves paths from the config's folder)."""
    try:
        return os.path.relpath(path.resolve(), directory.resolve())
    except ValueError:  # another drive (Windows)
        return str(path.resolve())


def write_deepstream_files(directory: Path, onnx_file: Path, config: DeepStreamConfig, cal_cache: Path | None = None,
                           network_mode: int | None = None) -> list[Path]:
    """Write labels.txt (network order) and nvinfer_config.txt next to the model."""
    labels_path, config_path = directory / "labels.txt", directory / "nvinfer_config.txt"
    atomic_write_text(labels_path, "".join(f"{name}\n" for name in config.labels))
    props = {**config.properties, "onnx-file": _relative(onnx_file, directory), "labelfile-path": labels_path.name,
             "network-mode": network_mode if network_mode is not None else 1 if cal_cache else 0}
    if cal_cache is not None:
        props["int8-calib-file"] = _relative(cal_cache, directory)
    atomic_write_text(config_path, nvinfer_config(props, config.class_sections))
    return [labels_path, config_path]
