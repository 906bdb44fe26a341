"""TensorRT's INT8 calibration cache (cal.bin) text format, read and written without importing TensorRT."""

from __future__ import annotations

import logging
import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from taokit.engine.files import atomic_write_text
from taokit.errors import ExportError

log = logging.getLogger("taokit.export")

DEFAULT_ALGORITHM = "EntropyCalibration2"
ALGORITHMS = ("EntropyCalibration2", "EntropyCalibration", "MinMaxCalibration", "LegacyCalibration")
_HEADER = re.compile(r"^TRT-(\d+)-([A-Za-z0-9]+)$")
_HEX = re.compile(r"^[0-9a-fA-F]{1,8}$")


@dataclass(frozen=True)
class CalibrationCache:
    """A parsed cache: the TensorRT version number of its header, the calibrator word, per-tensor scales."""

    version: int
    algorithm: str
    scales: dict[str, float]

    @property
    def amax(self) -> dict[str, float]:
        """The calibrated dynamic range of each tensor (TensorRT's scale is amax / 127)."""
        return {name: scale * 127.0 for name, scale in self.scales.items()}


def trt_version_number(version: str) -> int:
    """The integer TensorRT puts in the header: 10.3.0 -> 100300, 8.6.1 -> 8601.

    TensorRT 10 changed NV_TENSORRT_VERSION from major*1000+minor*100+patch to
    major*10000+minor*100+patch; a build number (10.3.0.26) is not part of it.
    """
    parts = version.strip().split(".")
    try:
        major, minor, patch = (int(p) for p in (parts + ["0", "0"])[:3])
    except ValueError:
        raise ExportError(f"TensorRT version '{version}': expected MAJOR.MINOR.PATCH, e.g. 10.3.0") from None
    if minor > 99 or patch > 99:
        raise ExportError(f"TensorRT version '{version}': minor and patch must be below 100")
    return major * (10000 if major >= 10 else 1000) + minor * 100 + patch


def scale_hex(scale: float) -> str:
    """The float32 bit pattern of `scale`, most significant byte first, lowercase, without leading zeros.

    This is TAO's `hex(struct.unpack('i', struct.pack('f', s))[0])[2:]`; it equals
    `struct.pack('>f', s).hex()` for every scale >= 2**-95 and differs only for 0 and the tiniest
    values, where TAO writes fewer than 8 digits (readers parse it with strtoul, so both load).
    """
    return format(struct.unpack(">I", struct.pack(">f", scale))[0], "x")


def write_calibration_cache(path: Path, amax: dict[str, float], trt_version: str,
                            algorithm: str = DEFAULT_ALGORITHM) -> Path:
    """Write `amax` (per-tensor max |activation|) as a TensorRT cache for `trt_version`, atomically.

    TensorRT skips or rejects a cache whose header is not its own version, so the version must be
    the one of the machine that will build the engine.
    """
    if algorithm not in ALGORITHMS:
        raise ExportError(f"calibration algorithm '{algorithm}': choose one of {', '.join(ALGORITHMS)}")
    lines = [f"TRT-{trt_version_number(trt_version)}-{algorithm}"]
    for name, value in amax.items():
        if not math.isfinite(value) or value < 0:
            raise ExportError(f"{path}: tensor '{name}' has calibration range {value}; expected a finite "
                              "value >= 0 (re-run calibration on real images)")
        if not name or "\n" in name:
            raise ExportError(f"{path}: tensor name {name!r} cannot be written to a TensorRT cache")
        lines.append(f"{name}: {scale_hex(value / 127.0)}")
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def read_calibration_cache(path: Path) -> CalibrationCache:
    """Parse a cache written by TensorRT, TAO or `write_calibration_cache`; errors name the line."""
    return parse_calibration_cache(_read_text(path), path)


def parse_calibration_cache(text: str, path: Path | str) -> CalibrationCache:
    """Parse cache text; `path` only names the file in errors. Names may contain ':' (TF-style 'x:0')."""
    lines = text.splitlines()
    header = _HEADER.match(lines[0].strip()) if lines else None
    if header is None:
        found = repr(lines[0][:60]) if lines else "an empty file"
        raise ExportError(f"{path}:1: expected a header like 'TRT-100300-EntropyCalibration2', found {found}")
    scales: dict[str, float] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        name, _, value = line.rstrip().rpartition(": ")
        if not name or not _HEX.match(value):
            raise ExportError(f"{path}:{number}: expected '<tensor name>: <hex scale>', found {line[:80]!r}")
        if name in scales:
            raise ExportError(f"{path}:{number}: tensor '{name}' appears twice; keep one line per tensor")
        scale = struct.unpack(">f", int(value, 16).to_bytes(4, "big"))[0]
        if not math.isfinite(scale) or scale < 0:
            raise ExportError(f"{path}:{number}: tensor '{name}' has scale {scale}; re-run calibration")
        scales[name] = scale
    return CalibrationCache(int(header.group(1)), header.group(2), scales)


def cache_bytes_for(path: Path, trt_version: str, algorithm: str = DEFAULT_ALGORITHM,
                    tensor_names: frozenset[str] | None = None) -> bytes:
    """The cache at `path` as TensorRT `trt_version` will accept it, for a calibrator to hand over.

    A cache from another TensorRT version carries the same scales but TensorRT rejects its header
    ("Calibration table does not match"), so the header is rewritten, with a warning. A cache of
    another calibrator kind is refused: its scales were computed differently. With the model's
    `tensor_names`, entries are matched to them with or without TensorFlow's `:0` (NGC's caches for
    keras2onnx files say `input_1:0`; legacy UFF caches say `input_1`): TensorRT silently drops a
    scale whose name it does not know, which would leave those layers uncalibrated.
    """
    text = _read_text(path)
    cache = parse_calibration_cache(text, path)
    if tensor_names is not None:
        text = _matched_names(text, cache, tensor_names, path)
    if cache.algorithm != algorithm:
        raise ExportError(f"{path}: this is a {cache.algorithm} cache and the engine builder calibrates "
                          f"with {algorithm}; delete it or write a new one with export --data_type int8")
    wanted = trt_version_number(trt_version)
    if cache.version != wanted:
        log.warning("%s was written for TensorRT version %d; rewriting its header for %s (%d)", path,
                    cache.version, trt_version, wanted)
        body = text.split("\n", 1)[1] if "\n" in text else ""
        text = f"TRT-{wanted}-{algorithm}\n{body}"
    return text.encode("utf-8")


def _matched_names(text: str, cache: CalibrationCache, tensor_names: frozenset[str], path: Path) -> str:
    renamed: dict[str, str] = {}
    for name in cache.scales:
        if name in tensor_names:
            continue
        target = f"{name}:0" if f"{name}:0" in tensor_names else name[:-2] if (
            name.endswith(":0") and name[:-2] in tensor_names) else None
        if target is not None and target not in cache.scales:  # never two lines for one tensor
            renamed[name] = target
    known = sum(1 for name in cache.scales if name in tensor_names or name in renamed)
    if cache.scales and known == 0:
        example = next(iter(cache.scales))
        raise ExportError(f"{path}: the cache names none of the model's tensors (e.g. '{example}'); it was written "
                          "for another model: pass that model's cache or calibrate with --cal_image_dir")
    if not renamed:
        return text
    log.info("%s: %d of %d entries renamed to the model's tensor names (with or without ':0')", path,
             len(renamed), len(cache.scales))
    lines = text.splitlines()
    body = []
    for line in lines[1:]:
        name, sep, value = line.rstrip().rpartition(": ")
        body.append(f"{renamed.get(name, name)}{sep}{value}" if sep else line)
    return "\n".join([lines[0], *body]) + "\n"


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ExportError(f"{path}: calibration cache not found; write one with export --data_type int8") \
            from None
    except UnicodeDecodeError:
        raise ExportError(f"{path}: not a text TensorRT calibration cache (binary content)") from None
