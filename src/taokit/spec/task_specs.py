"""A task's spec files as typed specs: which kind a file is, the spec an action runs from, the spec recorded
with a model, and what a training run stores of it.

A task only declares its schemas (`Task.schemas`, `action_spec_kinds`, `adapt_spec`); everything that
turns files into those schemas lives here, behind `load(task, action, path, overrides, model_path=...)`.
"""

from __future__ import annotations

import copy
import logging
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast, runtime_checkable

from taokit.errors import ModelError, NotAvailableYet, SpecError, UsageError

if TYPE_CHECKING:
    from taokit.spec.base import SpecModel
    from taokit.spec.nodes import Message
    from taokit.tasks.base import Task

log = logging.getLogger("taokit")

S = TypeVar("S", bound="SpecModel")

# Actions whose spec may come from the one recorded with the model when -e is not given.
RECORDED_SPEC_ACTIONS = frozenset({"evaluate", "inference", "export", "gen_trt_engine", "tune_postprocess"})


def load(task: Task[Any], action: str, path: Path | None, overrides: list[str], *,
         model_path: Path | None = None) -> SpecModel:
    """The spec `action` runs from: -e, else the one recorded with the model (see `find`); one line naming
    what to pass when there is none."""
    spec = find(task, action, path, overrides, model_path=model_path)
    if spec is None:
        recorded_too = model_path is not None and action in RECORDED_SPEC_ACTIONS
        raise SpecError(f"'{action}' needs a spec file: pass -e/--experiment_spec_file"
                        + (f" ({model_path} records none)" if recorded_too else ""))
    return spec


def find(task: Task[Any], action: str, path: Path | None, overrides: list[str], *,
         model_path: Path | None = None) -> SpecModel | None:
    """-e if given (as the kind the task names for `action`, else the detected one); else, for the actions
    of RECORDED_SPEC_ACTIONS, the spec recorded with the model (in the file or its run's experiment.yaml);
    else None."""
    if path is not None:
        return load_file(task, path, task.action_spec_kinds.get(action), overrides)
    if model_path is not None and action in RECORDED_SPEC_ACTIONS:
        return recorded(task, model_path, overrides)
    return None


@runtime_checkable
class TrainingSpec(Protocol):
    """A spec a task trains from. The train action seeds every RNG with `random_seed` before the
    task builds anything, so that initial weights are the same on every DDP rank and every run."""

    @property
    def random_seed(self) -> int: ...


def load_training(task: Task[S], path: Path, overrides: list[str]) -> S:
    """The experiment spec a training run (or an AutoML search) starts from; any other kind is one line."""
    spec = load(task, "train", path, overrides)
    if not isinstance(spec, TrainingSpec):
        raise UsageError(f"{path}: a {type(spec).__name__} spec cannot train a {task.name} model; pass the "
                         "experiment spec")
    return cast(S, spec)


def seed_of(spec: SpecModel) -> int:
    """The random_seed of a spec `load_training` returned."""
    if not isinstance(spec, TrainingSpec):
        raise UsageError(f"a {type(spec).__name__} spec has no random_seed: it cannot train a model")
    return spec.random_seed


def load_file(task: Task[Any], path: Path, kind: str | None = None, overrides: list[str] | None = None) -> SpecModel:
    """`path` (protobuf text or YAML) as the given spec kind, or the detected one, with overrides applied."""
    from taokit.spec.load import parse_spec_source

    return _validate(task, parse_spec_source(path), str(path), kind, overrides)


def recorded(task: Task[Any], model_path: Path, overrides: list[str]) -> SpecModel | None:
    """The spec recorded with `model_path` (in the file, or in the experiment.yaml of its run), if any."""
    from taokit.spec.yaml_source import parse_yaml
    from taokit.tasks.common.spec_record import read_spec_record

    found = read_spec_record(model_path)
    if found is None:
        return None
    stored, source = found
    if stored.get("task", task.name) != task.name:
        raise ModelError(f"{model_path}: is a {stored['task']} model, not a {task.name} model")
    log.info("no -e given: using the spec recorded in %s", source)
    return _validate(task, parse_yaml(stored["yaml"], source), source, stored.get("kind") or None, overrides)


def detect_kind(task: Task[Any], root: Message) -> str:
    """Which of the task's spec kinds a parsed file is: the schema sharing the most top-level field names."""
    if not task.spec_kinds:
        raise NotAvailableYet(f"the {task.name} task has no spec files yet")
    keys = {entry.name for entry in root.entries}
    best, best_hits = next(iter(task.spec_kinds)), -1
    for kind, schema in task.spec_kinds.items():
        hits = len(keys & {info.alias or n for n, info in schema.model_fields.items()})
        if hits > best_hits:
            best, best_hits = kind, hits
    return best


def kind_of(task: Task[Any], spec: SpecModel) -> str:
    for kind, schema in task.spec_kinds.items():
        if type(spec) is schema:
            return kind
    raise UsageError(f"a {type(spec).__name__} is not a spec of the {task.name} task")


def record(task: Task[Any], spec: SpecModel) -> dict[str, str]:
    """The spec as stored in model files and ONNX metadata, so later actions can run without -e."""
    from taokit.spec.write import to_yaml

    return {"task": task.name, "kind": kind_of(task, spec), "yaml": to_yaml(spec)}


def experiment_record(task: Task[Any], spec: SpecModel) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the full resolved spec, the part that must match to resume a run in the same results dir: all but
    the task's `resume_exempt` keys)."""
    full = spec.model_dump(mode="json", by_alias=True)
    resumable = copy.deepcopy(full)
    for dotted in task.resume_exempt:
        *parents, last = dotted.split(".")
        node = resumable
        for part in parents:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(last, None)
    return full, resumable


def default_files(task: Task[Any]) -> dict[str, str]:
    """File name -> commented default spec text, for `default_specs`."""
    if not task.default_specs_package:
        raise NotAvailableYet(f"the {task.name} task has no default specs yet")
    files = resources.files(task.default_specs_package)
    return {f.name: f.read_text(encoding="utf-8") for f in files.iterdir() if f.name.endswith((".txt", ".yaml"))}


def _validate(task: Task[Any], root: Message, source: str, kind: str | None, overrides: list[str] | None) -> SpecModel:
    from taokit.spec.load import validate_spec

    kind = kind or detect_kind(task, root)
    if kind not in task.spec_kinds:
        raise UsageError(f"the {task.name} task has no '{kind}' spec; kinds are {', '.join(task.spec_kinds)}")
    return task.adapt_spec(validate_spec(root, task.spec_kinds[kind], source, overrides), kind)
