"""The classification task: ImageFolder data, torchvision backbones, TAO's tf1 and PyTorch specs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from taokit.results import Result
from taokit.spec.base import SpecModel
from taokit.tasks.base import GeneratedDataset, Task
from taokit.tasks.classification.spec import ClassificationSpec, PytSpec, Tf1Spec, from_pyt, from_tf1

if TYPE_CHECKING:
    from taokit.engine.fit import FitConfig, FitParts, TrainEnv
    from taokit.optimize.plan import ExportPlan, PruneTarget


class ClassificationTask(Task):
    name = "classification"
    # Both TAO formats become one ClassificationSpec (adapt_spec); `taokit` is that config written out.
    spec_kinds = {"tf1": Tf1Spec, "pyt": PytSpec, "taokit": ClassificationSpec}
    implemented = frozenset({"default_specs", "train", "generate", "evaluate", "inference", "export",
                             "gen_trt_engine", "benchmark", "prune"})
    default_specs_package = "taokit.tasks.classification.default_specs"
    resume_exempt = ("train.epochs", "train.checkpoint_interval", "train.validation_interval", "data.n_workers",
                     "data.test_dir", "evaluate", "inference")

    def adapt_spec(self, spec: SpecModel, kind: str) -> SpecModel:
        if isinstance(spec, Tf1Spec):
            return from_tf1(spec)
        if isinstance(spec, PytSpec):
            return from_pyt(spec)
        return spec

    def build_training(self, spec: ClassificationSpec, env: TrainEnv) -> tuple[FitParts, FitConfig, Any]:
        from taokit.tasks.classification.training import build_training

        return build_training(spec, env)

    def generate_dataset(self, output_dir: Path, *, num_images: int | None, seed: int) -> GeneratedDataset:
        from taokit.tasks.classification.demo_data import CLASSES, generate

        counts = generate(output_dir, num_images or 1200, seed=seed)
        per_class = {name: sum(counts.values()) // len(CLASSES) for name in CLASSES}
        return GeneratedDataset(per_class, [
            f"ImageFolder splits: {', '.join(f'{output_dir / s} ({n} images)' for s, n in counts.items())}",
            "specs/classification/demo.txt reads results/shapes/data: tao classification train -e "
            "specs/classification/demo.txt -r results/shapes/train"])

    def evaluate(self, spec: ClassificationSpec, model_path: Path, request: Any) -> Result:
        from taokit.tasks.classification.evaluate import run_evaluate

        return run_evaluate(spec, model_path, request)

    def inference(self, spec: ClassificationSpec | None, inputs: str, request: Any) -> Result:
        from taokit.tasks.classification.inference import run_inference

        return run_inference(spec, inputs, request)

    def export_plan(self, model_path: Path, spec: ClassificationSpec | None) -> ExportPlan:
        from taokit.tasks.classification.export import export_plan

        return export_plan(model_path, spec)

    def calibration_source(self, spec: ClassificationSpec | None, chw: tuple[int, int, int]) -> Any:
        from taokit.tasks.classification.export import calibration_source

        return calibration_source(spec, chw)

    def open_backend(self, model_path: Path, *, backend: str | None = None, device: str | None = None) -> Any:
        from taokit.runtime.select import open_backend
        from taokit.tasks.classification.backends import load_torch

        return open_backend(model_path, load_torch=load_torch, backend=backend, device=device)

    def prune_target(self, model_path: Path) -> PruneTarget:
        import torch

        from taokit.optimize.plan import PruneTarget
        from taokit.tasks.classification.network import load_model, model_payload

        model, _ = load_model(model_path)
        h, w = model.arch.input_hw
        return PruneTarget(model, torch.zeros(1, 3, h, w), ["predictions"], model_payload,
                           "retrain it with train_config.pretrained_model_path (tf1 spec) or "
                           "train.pretrained_model_path (PyTorch spec) pointing here")
