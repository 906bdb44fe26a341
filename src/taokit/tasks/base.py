"""The Task protocol: everything shared code may ask of a task. Unimplemented parts say so cleanly."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from taokit.errors import NotAvailableYet, SpecError, UsageError
from taokit.spec.base import SpecModel
from taokit.spec.load import parse_spec_source, validate_spec

if TYPE_CHECKING:
    from taokit.spec.nodes import Message


@dataclass(frozen=True)
class GeneratedDataset:
    counts: dict[str, int]
    lines: list[str]


class Task:
    """Base class of every task. Shared code reaches a task only through these methods.

    A subclass sets `name`, `spec_kinds` (kind -> schema), `action_spec_kinds` (action -> kind) and
    `implemented` (the actions it supports); the rest of the protocol grows with the actions.
    """

    name: ClassVar[str] = ""
    spec_kinds: ClassVar[dict[str, type[SpecModel]]] = {}
    action_spec_kinds: ClassVar[dict[str, str]] = {}
    implemented: ClassVar[frozenset[str]] = frozenset()
    default_specs_package: ClassVar[str] = ""
    resume_exempt: ClassVar[tuple[str, ...]] = ()  # dotted spec keys that may change when resuming

    # -- specs -----------------------------------------------------------------------------------

    def require(self, action: str) -> None:
        """Raise NotAvailableYet unless this task implements `action`."""
        if action not in self.implemented:
            raise NotAvailableYet(
                f"'{action}' is not available yet for the {self.name} task "
                f"(available: {', '.join(sorted(self.implemented)) or 'none'})"
            )

    def detect_spec_kind(self, root: Message) -> str:
        """Guess which kind of spec a parsed file is from its top-level field names."""
        keys = {entry.name for entry in root.entries}
        best, best_hits = next(iter(self.spec_kinds)), -1
        for kind, schema in self.spec_kinds.items():
            names = {info.alias or n for n, info in schema.model_fields.items()}
            hits = len(keys & names)
            if hits > best_hits:
                best, best_hits = kind, hits
        return best

    def load_spec(
        self, path: Path, kind: str | None = None, overrides: list[str] | None = None
    ) -> SpecModel:
        """Load `path` as the given spec kind (or the detected one) with overrides applied."""
        root = parse_spec_source(path)
        kind = kind or self.detect_spec_kind(root)
        if kind not in self.spec_kinds:
            raise UsageError(f"the {self.name} task has no '{kind}' spec; kinds are "
                             f"{', '.join(self.spec_kinds)}")
        return self.adapt_spec(validate_spec(root, self.spec_kinds[kind], str(path), overrides), kind)

    def load_action_spec(self, action: str, path: Path | None, overrides: list[str]) -> SpecModel:
        """The spec an action runs from; the kind may be detected (e.g. inference takes either spec)."""
        if path is None:
            raise SpecError(f"'{action}' needs a spec file: pass -e/--experiment_spec_file")
        kind = self.action_spec_kinds.get(action)
        return self.load_spec(path, kind, overrides)

    def adapt_spec(self, spec: SpecModel, kind: str) -> SpecModel:
        """Hook for tasks whose specs come in several mappings of one model (classification)."""
        return spec

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

    def generate_dataset(self, output_dir: Path, *, num_images: int | None, seed: int) -> GeneratedDataset:
        """Write the task's synthetic demo dataset; returns an object with `counts` and `lines`."""
        raise NotAvailableYet(f"the {self.name} task has no demo dataset generator yet")

    # -- the rest of the protocol: each action's entry point (guarded by `require`) ---------------

    def _missing(self, what: str) -> NotAvailableYet:
        return NotAvailableYet(f"{what} is not available yet for the {self.name} task")

    def convert_dataset(self, spec: SpecModel, output_prefix: Path, *, strict: bool) -> Any:
        """dataset_convert: write shards; returns a Result."""
        raise self._missing("dataset_convert")

    def build_training(self, spec: SpecModel, env: Any) -> Any:
        """train: (FitParts, FitConfig, a report with .warnings()) for the engine's fit loop."""
        raise self._missing("train")

    def evaluate(self, spec: SpecModel, model_path: Path, request: Any) -> Any:
        """evaluate: metrics of any backend's model; returns a Result with data["metrics"]."""
        raise self._missing("evaluate")

    def inference(self, spec: SpecModel | None, inputs: str, request: Any) -> Any:
        """inference: outputs under request.results_dir; returns a Result."""
        raise self._missing("inference")

    def export_plan(self, model_path: Path, spec: SpecModel | None) -> Any:
        """export: an optimize.plan.ExportPlan (network, tensor names, preprocessing, deployment facts)."""
        raise self._missing("export")

    def calibration_source(self, spec: SpecModel | None, chw: tuple[int, int, int]) -> Any:
        """gen_trt_engine: (preprocess(path) -> CHW float32, default calibration images)."""
        raise self._missing("INT8 calibration")

    def open_backend(self, model_path: Path, *, backend: str | None = None, device: str | None = None) -> Any:
        """benchmark: a runtime.base.Backend for a .pth/.onnx/.engine of this task."""
        raise self._missing("benchmark")

    def prune_target(self, model_path: Path) -> Any:
        """prune: an optimize.plan.PruneTarget."""
        raise self._missing("prune")
