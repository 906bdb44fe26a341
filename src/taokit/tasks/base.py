"""The Task protocol: everything shared code may ask of a task, with the types both sides rely on.

A task is a folder under tasks/ with a `Task` subclass and one line in registry.py. It overrides the
methods of the actions it supports; `implemented` is read off those overrides, so the CLI, `tao info`
and `tao --help` can never claim more than the code does. docs/adding-a-task.md walks through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from taokit.errors import NotAvailableYet

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


# Each action and the Task method it needs: a task supports the actions whose method it overrides.
ACTION_METHODS = {
    "dataset_convert": "convert_dataset",
    "train": "build_training",
    "evaluate": "evaluate",
    "inference": "inference",
    "prune": "prune_target",
    "export": "export_plan",
    "gen_trt_engine": "export_plan",  # FP32/FP16 engines need only the ONNX; INT8 calibration asks calibration_source
    "benchmark": "load_torch",
    "generate": "generate_dataset",
}
# Actions beyond TAO's that a task may offer; `tao info` does not count them against completeness.
EXTRA_ACTION_METHODS = {"tune_postprocess": "tune_postprocess", "automl": "automl_plan",
                        "validate": "validate_dataset", "import": "import_model"}
# The spec type a task trains from (its experiment spec): what `build_training` and `automl_plan` take.
SpecT = TypeVar("SpecT", bound="SpecModel")


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


class Task(Generic[SpecT]):
    """Base class of every task. Shared code reaches a task only through these methods.

    A subclass (`class MyTask(Task[MyExperiment])`) sets `name` and `summary`, returns its schemas from
    `schemas()`, and overrides the action methods it supports (see ACTION_METHODS); the others raise
    NotAvailableYet. Spec files become specs in spec/task_specs.py.
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

    # -- specs: the task declares its schemas; spec/task_specs.py turns files into them ----------------------

    def schemas(self) -> dict[str, type[SpecModel]]:
        """Spec kind -> schema. Imported on first use, so that `tao --help` stays light."""
        return {}

    @cached_property
    def spec_kinds(self) -> dict[str, type[SpecModel]]:
        return self.schemas()

    def adapt_spec(self, spec: SpecModel, kind: str) -> SpecModel:
        """Hook for tasks whose specs come in several mappings of one model (classification)."""
        return spec

    def model_in_spec(self, spec: SpecModel, action: str) -> Path | None:
        """The model a spec names for `action` (TAO's eval_config.model_path, tlt_config.model), if any."""
        return None

    # -- the actions: a task overrides those it supports ------------------------------------------
    # Most take the task's experiment spec (SpecT). dataset_convert, inference and validate take `Any`: the
    # kind is the file the user passed (a dataset_convert spec, an inference spec, an experiment spec), and
    # the task narrows it.

    def _missing(self, what: str) -> NotAvailableYet:
        return NotAvailableYet(f"{what} is not available yet for the {self.name} task")

    def generate_dataset(self, output_dir: Path, *, num_images: int | None, seed: int) -> GeneratedDataset:
        """`tao dataset generate`: write the task's synthetic demo dataset."""
        raise self._missing("generate")

    def convert_dataset(self, spec: Any, output_prefix: Path, *, strict: bool) -> Result:
        """dataset_convert: write shards."""
        raise self._missing("dataset_convert")

    def build_training(self, spec: SpecT, env: TrainEnv) -> TrainingSetup:
        """train: the parts and settings of the engine's fit loop."""
        raise self._missing("train")

    def evaluate(self, spec: SpecT, request: EvaluateRequest) -> EvaluationResult:
        """evaluate: metrics of a .pth/.onnx/.engine model; `metrics` holds the numbers for status.json."""
        raise self._missing("evaluate")

    def inference(self, spec: Any, request: InferenceRequest) -> Result:
        """inference: outputs under request.results_dir."""
        raise self._missing("inference")

    def export_plan(self, model_path: Path, spec: SpecT | None) -> ExportPlan:
        """export: the network, tensor names, preprocessing and deployment facts."""
        raise self._missing("export")

    def calibration_source(self, spec: SpecT | None, chw: tuple[int, int, int]) -> CalibrationSource:
        """gen_trt_engine: how to turn calibration images into network inputs, and the default images."""
        raise self._missing("INT8 calibration")

    def load_torch(self, model_path: Path) -> tuple[nn.Module, ModelIO]:
        """benchmark (and every .pth backend): the task's network from its model file, as exported."""
        raise self._missing("benchmark")

    def prune_target(self, model_path: Path) -> PruneTarget:
        """prune: the network, an example input, the layers to keep whole, and the model-file writer."""
        raise self._missing("prune")

    def validate_dataset(self, spec: Any, output_dir: Path | None) -> Result:
        """`tao dataset validate`: read the dataset as training will and report what it would skip."""
        raise self._missing("validate")

    def automl_plan(self, spec: SpecT) -> AutoMLPlan:
        """automl: the default search space (TAO's where it has one), the KPI, the epochs/validation keys."""
        raise self._missing("automl")

    def tune_postprocess(self, spec: SpecT, request: EvaluateRequest) -> TuningResult:
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
