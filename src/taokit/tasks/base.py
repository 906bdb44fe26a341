"""The Task protocol: everything shared code may ask of a task, with the types both sides rely on.

A task is a folder under tasks/ with a `Task` subclass and one line in registry.py. It overrides the
methods of the actions it supports; `implemented` is read off those overrides, so the CLI, `tao info`
and `tao --help` can never claim more than the code does. docs/adding-a-task.md walks through it.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from taokit.errors import ModelError, NotAvailableYet, SpecError, UsageError

if TYPE_CHECKING:
    from torch import nn

    from taokit.automl.plan import AutoMLPlan
    from taokit.deploy.deepstream import DeepStreamConfig
    from taokit.engine.fit import FitConfig, FitParts, TrainEnv
    from taokit.optimize.plan import CalibrationSource, ExportPlan, ImportedModel, PruneTarget
    from taokit.requests import EvaluateRequest, InferenceRequest
    from taokit.results import EvaluationResult, Result, TuningResult
    from taokit.runtime.base import Backend, ModelIO
    from taokit.spec.base import SpecModel
    from taokit.spec.nodes import Message

log = logging.getLogger("taokit")

# Each action and the Task method a task overrides to support it.
ACTION_METHODS = {
    "dataset_convert": "convert_dataset",
    "train": "build_training",
    "evaluate": "evaluate",
    "inference": "inference",
    "prune": "prune_target",
    "export": "export_plan",
    "gen_trt_engine": "calibration_source",
    "benchmark": "load_torch",
    "generate": "generate_dataset",
}
# Actions beyond TAO's that a task may offer; `tao info` does not count them against completeness.
EXTRA_ACTION_METHODS = {"tune_postprocess": "tune_postprocess", "automl": "automl_plan",
                        "validate": "validate_dataset", "import": "import_model"}
# Actions whose spec may come from the one recorded with the model when -e is not given.
RECORDED_SPEC_ACTIONS = frozenset({"evaluate", "inference", "export", "gen_trt_engine", "tune_postprocess"})


@dataclass(frozen=True)
class GeneratedDataset:
    """What `tao dataset generate` prints: objects (or images) per class, and where the files are."""

    counts: dict[str, int]
    lines: list[str]


@dataclass
class TrainingSetup:
    """What a task hands the train action: the fit loop's parts and settings, and data warnings to log."""

    parts: FitParts
    config: FitConfig
    warnings: list[str] = field(default_factory=list)


@runtime_checkable
class TrainingSpec(Protocol):
    """A spec a task trains from. The train action seeds every RNG with `random_seed` before the
    task builds anything, so that initial weights are the same on every DDP rank and every run."""

    @property
    def random_seed(self) -> int: ...


class Task:
    """Base class of every task. Shared code reaches a task only through these methods.

    A subclass sets `name` and `summary`, returns its schemas from `schemas()`, and overrides the
    action methods it supports (see ACTION_METHODS); the others raise NotAvailableYet.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""  # one line for `tao --help` and `tao info`
    action_spec_kinds: ClassVar[dict[str, str]] = {}  # action -> spec kind; an action not listed detects it
    default_specs_package: ClassVar[str] = ""  # package holding the commented default spec files
    resume_exempt: ClassVar[tuple[str, ...]] = ()  # dotted spec keys that may change when resuming

    # -- what the task supports ---------------------------------------------------------------------

    @property
    def implemented(self) -> frozenset[str]:
        """The actions this task supports, read off the methods it overrides."""
        done = {action for action, method in {**ACTION_METHODS, **EXTRA_ACTION_METHODS}.items()
                if getattr(type(self), method) is not getattr(Task, method)}
        if self.default_specs_package:
            done.add("default_specs")
        return frozenset(done)

    def require(self, action: str) -> None:
        """Raise NotAvailableYet unless this task implements `action`."""
        if action not in self.implemented:
            raise NotAvailableYet(
                f"'{action}' is not available yet for the {self.name} task "
                f"(available: {', '.join(sorted(self.implemented)) or 'none'})"
            )

    # -- specs ----------------------------------------------------------------------------------------

    def schemas(self) -> dict[str, type[SpecModel]]:
        """Spec kind -> schema. Imported on first use, so that `tao --help` stays light."""
        return {}

    @cached_property
    def spec_kinds(self) -> dict[str, type[SpecModel]]:
        return self.schemas()

    def detect_spec_kind(self, root: Message) -> str:
        """Guess which kind of spec a parsed file is from its top-level field names."""
        if not self.spec_kinds:
            raise NotAvailableYet(f"the {self.name} task has no spec files yet")
        keys = {entry.name for entry in root.entries}
        best, best_hits = next(iter(self.spec_kinds)), -1
        for kind, schema in self.spec_kinds.items():
            names = {info.alias or n for n, info in schema.model_fields.items()}
            hits = len(keys & names)
            if hits > best_hits:
                best, best_hits = kind, hits
        return best

    def load_spec(self, path: Path, kind: str | None = None, overrides: list[str] | None = None) -> SpecModel:
        """Load `path` as the given spec kind (or the detected one) with overrides applied."""
        from taokit.spec.load import parse_spec_source

        return self._validate(parse_spec_source(path), str(path), kind, overrides)

    def _validate(self, root: Message, source: str, kind: str | None, overrides: list[str] | None) -> SpecModel:
        from taokit.spec.load import validate_spec

        kind = kind or self.detect_spec_kind(root)
        if kind not in self.spec_kinds:
            raise UsageError(f"the {self.name} task has no '{kind}' spec; kinds are {', '.join(self.spec_kinds)}")
        return self.adapt_spec(validate_spec(root, self.spec_kinds[kind], source, overrides), kind)

    def load_action_spec(self, action: str, path: Path | None, overrides: list[str], *,
                         model_path: Path | None = None) -> SpecModel:
        """The spec an action runs from: -e, else the one recorded with the model (see find_action_spec)."""
        spec = self.find_action_spec(action, path, overrides, model_path=model_path)
        if spec is None:
            recorded = model_path is not None and action in RECORDED_SPEC_ACTIONS
            raise SpecError(f"'{action}' needs a spec file: pass -e/--experiment_spec_file"
                            + (f" ({model_path} records none)" if recorded else ""))
        return spec

    def find_action_spec(self, action: str, path: Path | None, overrides: list[str], *,
                         model_path: Path | None = None) -> SpecModel | None:
        """-e if given; else, for evaluate, inference, export and gen_trt_engine, the spec recorded with
        the model (in the file or its run's experiment.yaml); else None."""
        if path is not None:
            return self.load_spec(path, self.action_spec_kinds.get(action), overrides)
        if model_path is not None and action in RECORDED_SPEC_ACTIONS:
            return self.recorded_spec(model_path, overrides)
        return None

    def load_training_spec(self, path: Path, overrides: list[str]) -> TrainingSpec:
        spec = self.load_action_spec("train", path, overrides)
        if not isinstance(spec, TrainingSpec):
            raise UsageError(f"{path}: a {type(spec).__name__} spec cannot train a {self.name} model; pass the "
                             "experiment spec")
        return spec

    def adapt_spec(self, spec: SpecModel, kind: str) -> SpecModel:
        """Hook for tasks whose specs come in several mappings of one model (classification)."""
        return spec

    def kind_of(self, spec: SpecModel) -> str:
        for kind, schema in self.spec_kinds.items():
            if type(spec) is schema:
                return kind
        raise UsageError(f"a {type(spec).__name__} is not a spec of the {self.name} task")

    def spec_record(self, spec: SpecModel) -> dict[str, str]:
        """The spec as stored in model files and ONNX metadata, so later actions can run without -e."""
        from taokit.spec.write import to_yaml

        return {"task": self.name, "kind": self.kind_of(spec), "yaml": to_yaml(spec)}

    def recorded_spec(self, model_path: Path, overrides: list[str]) -> SpecModel | None:
        """The spec recorded with `model_path` (in the file, or in the experiment.yaml of its run)."""
        from taokit.spec.yaml_source import parse_yaml
        from taokit.tasks.common.spec_record import read_spec_record

        found = read_spec_record(model_path)
        if found is None:
            return None
        record, source = found
        if record.get("task", self.name) != self.name:
            raise ModelError(f"{model_path}: is a {record['task']} model, not a {self.name} model")
        log.info("no -e given: using the spec recorded in %s", source)
        kind = record.get("kind") or None
        return self._validate(parse_yaml(record["yaml"], source), source, kind, overrides)

    def model_in_spec(self, spec: SpecModel, action: str) -> Path | None:
        """The model a spec names for `action` (TAO's eval_config.model_path, tlt_config.model), if any."""
        return None

    def default_spec_files(self) -> dict[str, str]:
        """File name -> commented default spec text, for `default_specs`."""
        if not self.default_specs_package:
            raise NotAvailableYet(f"the {self.name} task has no default specs yet")
        files = resources.files(self.default_specs_package)
        return {f.name: f.read_text(encoding="utf-8") for f in files.iterdir()
                if f.name.endswith((".txt", ".yaml"))}

    def experiment_record(self, spec: SpecModel) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the full resolved spec, the part that must match to resume a run in the same results dir)."""
        full = spec.model_dump(mode="json", by_alias=True)
        resumable = copy.deepcopy(full)
        for dotted in self.resume_exempt:
            *parents, last = dotted.split(".")
            node = resumable
            for part in parents:
                node = node.get(part, {}) if isinstance(node, dict) else {}
            if isinstance(node, dict):
                node.pop(last, None)
        return full, resumable

    # -- the actions: a task overrides those it supports ------------------------------------------

    def _missing(self, what: str) -> NotAvailableYet:
        return NotAvailableYet(f"{what} is not available yet for the {self.name} task")

    def generate_dataset(self, output_dir: Path, *, num_images: int | None, seed: int) -> GeneratedDataset:
        """`tao dataset generate`: write the task's synthetic demo dataset."""
        raise self._missing("generate")

    def convert_dataset(self, spec: SpecModel, output_prefix: Path, *, strict: bool) -> Result:
        """dataset_convert: write shards."""
        raise self._missing("dataset_convert")

    def build_training(self, spec: TrainingSpec, env: TrainEnv) -> TrainingSetup:
        """train: the parts and settings of the engine's fit loop."""
        raise self._missing("train")

    def evaluate(self, spec: SpecModel, request: EvaluateRequest) -> EvaluationResult:
        """evaluate: metrics of a .pth/.onnx/.engine model; `metrics` holds the numbers for status.json."""
        raise self._missing("evaluate")

    def inference(self, spec: SpecModel | None, request: InferenceRequest) -> Result:
        """inference: outputs under request.results_dir."""
        raise self._missing("inference")

    def export_plan(self, model_path: Path, spec: SpecModel | None) -> ExportPlan:
        """export: the network, tensor names, preprocessing and deployment facts."""
        raise self._missing("export")

    def calibration_source(self, spec: SpecModel | None, chw: tuple[int, int, int]) -> CalibrationSource:
        """gen_trt_engine: how to turn calibration images into network inputs, and the default images."""
        raise self._missing("INT8 calibration")

    def load_torch(self, model_path: Path) -> tuple[nn.Module, ModelIO]:
        """benchmark (and every .pth backend): the task's network from its model file, as exported."""
        raise self._missing("benchmark")

    def prune_target(self, model_path: Path) -> PruneTarget:
        """prune: the network, an example input, the layers to keep whole, and the model-file writer."""
        raise self._missing("prune")

    def validate_dataset(self, spec: SpecModel, output_dir: Path | None) -> Result:
        """`tao dataset validate`: read the dataset as training will and report what it would skip."""
        raise self._missing("validate")

    def automl_plan(self, spec: SpecModel) -> AutoMLPlan:
        """automl: the default search space (TAO's where it has one), the KPI, the epochs/validation keys."""
        raise self._missing("automl")

    def tune_postprocess(self, spec: SpecModel, request: EvaluateRequest) -> TuningResult:
        """tune_postprocess: search the post-processing for the best metric on the validation data,
        without retraining; writes the tuned specs under request.results_dir."""
        raise self._missing("tune_postprocess")

    def import_model(self, source: Path, class_names: list[str] | None, spec: SpecModel | None) -> ImportedModel:
        """import: NVIDIA's TAO 5 .hdf5 or deployable .onnx as a network of this task; class names from
        NGC's labels.txt or the spec, the input size from the file or the spec."""
        raise self._missing("import")

    def deepstream_for_onnx(self, onnx_path: Path, spec: SpecModel | None) -> DeepStreamConfig:
        """gen_trt_engine --gen_ds_config: what DeepStream needs for an ONNX of this task (taokit's or
        NVIDIA's), naming its tensors as the file does."""
        raise self._missing("gen_trt_engine --gen_ds_config")

    # -- built on the above -----------------------------------------------------------------------------

    def open_backend(self, model_path: Path, *, backend: str | None = None, device: str | None = None) -> Backend:
        """A runtime for a .pth (through `load_torch`), .onnx or .engine model of this task."""
        from taokit.runtime.select import open_backend

        return open_backend(model_path, load_torch=self.load_torch, backend=backend, device=device)
