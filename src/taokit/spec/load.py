"""load_spec(path, schema, overrides): a spec file in either format becomes one validated model."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path as FsPath
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from taokit.errors import SpecError
from taokit.spec.base import FieldPathError
from taokit.spec.nodes import Loc, Message
from taokit.spec.overrides import apply_overrides
from taokit.spec.prototext import parse_prototext
from taokit.spec.shape import Path, Shaper, format_path
from taokit.spec.yaml_source import parse_yaml

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

YAML_SUFFIXES = {".yaml", ".yml"}


def spec_format(path: FsPath) -> str:
    """'yaml' for .yaml/.yml files, 'prototext' for everything else (.txt, .cfg, .prototxt, ...)."""
    return "yaml" if path.suffix.lower() in YAML_SUFFIXES else "prototext"


def read_spec_text(path: FsPath) -> str:
    try:
        return _read_text(path)
    except PermissionError:
        raise SpecError("permission denied; the spec file (and its folders) must be readable by this user",
                        file=str(path)) from None
    except OSError as err:
        raise SpecError(f"cannot read it ({err.strerror})", file=str(path)) from None


def _read_text(path: FsPath) -> str:
    if not path.exists():
        raise SpecError("spec file not found; check its path on the command line", file=str(path))
    if path.is_dir():
        raise SpecError("is a directory, expected a spec file", file=str(path))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise SpecError(f"not a text file (byte {err.start} is not UTF-8)", file=str(path)) from None


def parse_spec_source(path: FsPath, text: str | None = None) -> Message:
    """Read a spec file into its located source tree, choosing the reader by suffix."""
    text = read_spec_text(path) if text is None else text
    if spec_format(path) == "yaml":
        return parse_yaml(text, str(path))
    return parse_prototext(text, str(path))


def load_spec(path: str | FsPath, schema: type[M], overrides: list[str] | None = None) -> M:
    """Load a protobuf-text or YAML spec file into `schema`.

    Args:
        path: the spec file; `.yaml`/`.yml` is YAML, anything else protobuf text format.
        schema: the task's pydantic model for this kind of spec.
        overrides: `dotted.key=value` strings applied after the file.

    Raises:
        SpecError: one line naming file, line, column and dotted key, with a close match for typos.

    >>> load_spec("specs/detectnet/train.txt", DetectNetExperiment, ["training_config.num_epochs=5"])
    """
    path = FsPath(path)
    return validate_spec(parse_spec_source(path), schema, str(path), overrides)


def validate_spec(root: Message, schema: type[M], file: str | None, overrides: list[str] | None = None) -> M:
    """Shape, override and validate an already-parsed source tree."""
    shaper = Shaper(file, protobuf=root.kv_maps)
    data = shaper.message(root, schema, ())
    written = apply_overrides(data, schema, list(overrides or []))
    try:
        model = schema.model_validate(data)
    except ValidationError as err:
        raise _to_spec_error(err, shaper.locs, file, written, root.loc) from None
    warn_ignored(model, file)
    return model


def _to_spec_error(
    err: ValidationError, locs: dict[Path, Loc], file: str | None, written: list[tuple[Path, str]], root: Loc
) -> SpecError:
    def position(e: dict[str, Any]) -> tuple[int, int]:
        loc = _nearest_loc(_error_path(e), locs) or root
        return (loc.line, loc.col)

    first = min(err.errors(), key=position)
    path = _error_path(first)
    reason = _reason(first)
    for w, text in written:
        if path[: len(w)] == w:
            return SpecError(reason, file=f"override '{text}'", key=format_path(path))
    loc = _nearest_loc(path, locs) or root
    return SpecError(reason, file=file, line=loc.line, col=loc.col, key=format_path(path))


def _error_path(error: dict[str, Any]) -> Path:
    path: Path = tuple(p for p in error["loc"] if p != "__root__")
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldPathError):
        path = path + cause.path
    return path


def _nearest_loc(path: Path, locs: dict[Path, Loc]) -> Loc | None:
    for n in range(len(path), 0, -1):
        if path[:n] in locs:
            return locs[path[:n]]
    return None


def _reason(error: dict[str, Any]) -> str:
    msg = str(error["msg"])
    kind = error.get("type", "")
    if kind == "missing":
        return "required field is missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    elif msg.startswith("Assertion failed, "):
        msg = msg[len("Assertion failed, ") :]
    msg = msg[0].lower() + msg[1:] if msg else msg
    value = error.get("input")
    if kind not in ("missing", "value_error") and isinstance(value, (str, int, float, bool)):
        msg += f" (got {value!r})"
    return msg


def _fields_set(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """(key, field info, json_schema_extra) of every field a spec sets, depth first; an ignored field's
    own sub-fields are not visited (it is reported once, as a whole)."""
    for name in sorted(model.model_fields_set):
        info = type(model).model_fields[name]
        key = f"{prefix}{info.alias or name}"
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        yield key, info, extra
        if "ignored" not in extra:
            for sub_key, sub in _sub_models(getattr(model, name)):
                yield from _fields_set(sub, f"{key}{sub_key}.")


def warn_ignored(model: BaseModel, file: str | None) -> None:
    """Warn once per field that the spec sets but taokit accepts without using (see `ignored`)."""
    for key, _, extra in _fields_set(model):
        if "ignored" in extra:
            log.warning("%s: %s is accepted but ignored by taokit: %s", file or "<spec>", key, extra["ignored"])


def extensions_set(model: BaseModel) -> list[tuple[str, str]]:
    """(key, description) of each taokit extension the spec sets: fields described "taokit extension: ..."."""
    return [(key, info.description.split(":", 1)[-1].strip()) for key, info, _ in _fields_set(model)
            if (info.description or "").startswith("taokit extension")]


def _sub_models(value: Any) -> list[tuple[str, BaseModel]]:
    if isinstance(value, BaseModel):
        return [("", value)]
    if isinstance(value, (list, tuple)):
        return [(f"[{i}]", v) for i, v in enumerate(value) if isinstance(v, BaseModel)]
    if isinstance(value, dict):
        return [(f".{k}", v) for k, v in value.items() if isinstance(v, BaseModel)]
    return []
