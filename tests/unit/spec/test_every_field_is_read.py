"""Every field of every task's spec schema either takes effect or is marked `ignored` (and warns when set).

A field counts as read when source code outside its schema accesses it by name (`.name`, a validator on
it, or a getattr); fields inside an ignored section, and fields with one allowed value, need nothing
more. This is a name-level check: it catches a new field that nothing reads, which is the usual slip.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from taokit.spec import task_specs
from taokit.spec.annotations import literal_values, shape_of
from taokit.tasks.registry import TASKS, get_task

SRC = Path(__file__).resolve().parents[3] / "src" / "taokit"


def _schemas() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    todo = [schema for name in TASKS for schema in get_task(name).spec_kinds.values()]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for info in model.model_fields.values():
            if not _is_ignored(info):
                todo += _sub_models(info.annotation)
    return seen


def _sub_models(annotation: object) -> list[type[BaseModel]]:
    shape = shape_of(annotation)
    if shape.kind in ("list", "map"):
        shape = shape_of(shape.inner)
    return [shape.inner] if shape.kind == "message" else []


def _is_ignored(info: object) -> bool:
    extra = getattr(info, "json_schema_extra", None)
    return isinstance(extra, dict) and "ignored" in extra


def _unread_fields(source: str) -> list[str]:
    unread = []
    for model in _schemas():
        for name, info in model.model_fields.items():
            values = literal_values(info.annotation)
            if _is_ignored(info) or (values is not None and len(values) == 1):
                continue
            patterns = (rf"\.{name}\b", rf"field_validator\([^)]*['\"]{name}['\"]", rf"getattr\([^)]*['\"]{name}['\"]")
            if not any(re.search(p, source) for p in patterns):
                unread.append(f"{model.__module__}.{model.__name__}.{name}")
    return unread


def test_every_spec_field_is_read_or_marked_ignored() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))
    unread = _unread_fields(source)
    assert not unread, ("these spec fields load but nothing reads them; use them, or declare them with "
                        f"taokit.spec.base.ignored(default, reason): {unread}")


def test_the_walk_finds_a_field_that_nothing_reads() -> None:
    from taokit.tasks.detectnet.spec.training import Visualizer

    source = "\n".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))
    hidden = source.replace(".infrequent_logging_frequency", ".renamed")
    assert _unread_fields(hidden) == [f"{Visualizer.__module__}.Visualizer.infrequent_logging_frequency"]


def test_an_ignored_field_that_a_spec_sets_warns_in_one_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spec = tmp_path / "infer.txt"
    spec.write_text('inferencer_config { target_classes: "car" image_width: 64 image_height: 32 '
                    'tensorrt_config { backend_data_type: INT8 } }\n')
    with caplog.at_level("WARNING"):
        task_specs.load_file(get_task("detectnet"), spec, "inference")
    lines = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert lines == [f"{spec}: inferencer_config.tensorrt_config.backend_data_type is accepted but ignored by "
                     "taokit: an engine's precision is fixed when it is built: gen_trt_engine --data_type"]


DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_every_taokit_extension_is_documented_with_its_task() -> None:
    """A key TAO lacks is written down, in the task's own page (docs/<task>.md) or the spec reference."""
    pages = {name: (DOCS / f"{name}.md").read_text(encoding="utf-8") if (DOCS / f"{name}.md").exists() else ""
             for name in TASKS}
    shared = (DOCS / "specs.md").read_text(encoding="utf-8") if (DOCS / "specs.md").exists() else ""
    missing = []
    for name in TASKS:
        todo = list(get_task(name).spec_kinds.values())
        seen: list[type[BaseModel]] = []
        while todo:
            model = todo.pop()
            if model in seen:
                continue
            seen.append(model)
            todo += [sub for info in model.model_fields.values() for sub in _sub_models(info.annotation)]
            for field, info in model.model_fields.items():
                key = info.alias or field
                if (info.description or "").startswith("taokit extension") and \
                        f"`{key}`" not in pages[name] and f".{key}`" not in pages[name] and key not in shared:
                    missing.append(f"{name}: {model.__name__}.{key}")
    assert not missing, f"document these taokit extensions in docs/<task>.md: {sorted(set(missing))}"
