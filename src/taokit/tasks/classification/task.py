"""The classification task: ImageFolder data, torchvision backbones, TAO's tf1 and PyTorch specs.

Heavy modules (torch, the spec schemas) are imported inside the methods, so that the CLI can list the
task and what it supports without loading them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from taokit.tasks.base import GeneratedDataset, Task, TrainingSetup

if TYPE_CHECKING:
    from torch import nn

    from taokit.automl.plan import AutoMLPlan
    from taokit.deploy.deepstream import DeepStreamConfig
    from taokit.engine.fit import TrainEnv
    from taokit.optimize.plan import CalibrationSource, ExportPlan, ImportedModel, PruneTarget
    from taokit.requests import EvaluateRequest, InferenceRequest
    from taokit.results import EvaluationResult, Result
    from taokit.runtime.base import ModelIO
    from taokit.spec.base import SpecModel
    from taokit.tasks.classification.spec import ClassificationSpec


class ClassificationTask(Task["ClassificationSpec"]):
    name = "classification"
    summary = "image classification (ImageFolder data; TAO's tf1 and PyTorch specs)"
    default_specs_package = "taokit.tasks.classification.default_specs"
    resume_exempt = ("train.epochs", "train.checkpoint_interval", "train.validation_interval", "data.n_workers",
                     "data.test_dir", "evaluate", "inference")

    def schemas(self) -> dict[str, type[SpecModel]]:
        # Both TAO formats become one ClassificationSpec (adapt_spec); `taokit` is that config written out.
        from taokit.tasks.classification.spec import ClassificationSpec, PytSpec, Tf1Spec

        return {"tf1": Tf1Spec, "pyt": PytSpec, "taokit": ClassificationSpec}

    def adapt_spec(self, spec: SpecModel, kind: str) -> SpecModel:
        from taokit.tasks.classification.spec import PytSpec, Tf1Spec, from_pyt, from_tf1

        if isinstance(spec, Tf1Spec):
            return from_tf1(spec)
        if isinstance(spec, PytSpec):
            return from_pyt(spec)
        return spec

    def model_in_spec(self, spec: SpecModel, action: str) -> Path | None:
        section = spec.inference if action == "inference" else spec.evaluate  # type: ignore[attr-defined]
        path = section.model_path or spec.evaluate.model_path  # type: ignore[attr-defined]
        return Path(path) if path else None

    def automl_plan(self, spec: ClassificationSpec) -> AutoMLPlan:
        """TAO's two: the learning rate and the weight decay, under the keys of the spec's own format."""
        from taokit.automl.plan import AutoMLPlan
        from taokit.automl.space import Hyperparameter

        t = spec.train
        keys = {
            "tf1": (f"train_config.lr_config.{t.schedule.type}.learning_rate", "train_config.reg_config.weight_decay",
                    "train_config.n_epochs", []),
            "pyt": ("train.optim.lr", "train.optim.weight_decay", "train.num_epochs", ["train.validation_interval"]),
            "taokit": ("train.schedule.learning_rate", "train.optimizer.weight_decay", "train.epochs",
                       ["train.validation_interval"]),
        }[spec.source]
        lr_key, decay_key, epochs_key, validation = keys
        decay = spec.train.regularizer.weight if spec.source == "tf1" else t.optimizer.weight_decay
        return AutoMLPlan([Hyperparameter(lr_key, "log", 1e-4, 1e-1), Hyperparameter(decay_key, "log", 1e-6, 1e-2)],
                          "val_accuracy", epochs_key, validation,
                          {lr_key: min(max(t.schedule.learning_rate, 1e-4), 1e-1), decay_key: min(max(decay, 1e-6), 1e-2)})

    def generate_dataset(self, output_dir: Path, *, num_images: int | None, seed: int) -> GeneratedDataset:
        from taokit.tasks.classification.demo_data import CLASSES, generate

        counts = generate(output_dir, num_images or 1200, seed=seed)
        per_class = {name: sum(counts.values()) // len(CLASSES) for name in CLASSES}
        return GeneratedDataset(per_class, [
            f"ImageFolder splits: {', '.join(f'{output_dir / s} ({n} images)' for s, n in counts.items())}",
            "specs/classification/demo.txt reads results/shapes/data: tao classification train -e "
            "specs/classification/demo.txt -r results/shapes/train"])

    def build_training(self, spec: ClassificationSpec, env: TrainEnv) -> TrainingSetup:
        from taokit.tasks.classification.training import build_training

        return build_training(spec, env)

    def validate_dataset(self, spec: ClassificationSpec, output_dir: Path | None) -> Result:
        from taokit.tasks.classification.validate import validate_dataset

        return validate_dataset(spec, output_dir)

    def evaluate(self, spec: ClassificationSpec, request: EvaluateRequest) -> EvaluationResult:
        from taokit.tasks.classification.evaluate import run_evaluate

        return run_evaluate(spec, request)

    def inference(self, spec: ClassificationSpec | None, request: InferenceRequest) -> Result:
        from taokit.tasks.classification.inference import run_inference

        return run_inference(spec, request)

    def export_plan(self, model_path: Path, spec: ClassificationSpec | None) -> ExportPlan:
        from taokit.tasks.classification.export import export_plan

        return export_plan(model_path, spec)

    def calibration_source(self, spec: ClassificationSpec | None, chw: tuple[int, int, int]) -> CalibrationSource:
        from taokit.tasks.classification.export import calibration_source

        return calibration_source(spec, chw)

    def deepstream_for_onnx(self, onnx_path: Path, spec: SpecModel | None) -> DeepStreamConfig:
        from taokit.tasks.classification.export import deepstream_for_onnx
        from taokit.tasks.classification.spec import ClassificationSpec

        return deepstream_for_onnx(onnx_path, spec if isinstance(spec, ClassificationSpec) else None)

    def load_torch(self, model_path: Path) -> tuple[nn.Module, ModelIO]:
        from taokit.tasks.classification.runner import load_torch

        return load_torch(model_path)

    def import_model(self, source: Path, class_names: list[str] | None, spec: SpecModel | None) -> ImportedModel:
        from taokit.optimize.plan import ImportedModel
        from taokit.tasks.classification.import_model import import_classifier
        from taokit.tasks.classification.model import SoftmaxOutput
        from taokit.tasks.classification.network import model_payload, preprocess_of
        from taokit.tasks.classification.spec import ClassificationSpec

        input_hw, preprocess = None, None
        if isinstance(spec, ClassificationSpec):
            input_hw, preprocess = spec.input_hw, preprocess_of(spec)
        model = import_classifier(source, class_names, input_hw, preprocess)
        return ImportedModel(SoftmaxOutput(model), model_payload(model),
                             "fine-tune it with train_config.pretrained_model_path pointing here, or evaluate, "
                             "prune and export it as it is")

    def prune_target(self, model_path: Path) -> PruneTarget:
        from taokit.optimize.plan import PruneTarget
        from taokit.tasks.classification.network import load_model, model_payload

        model, _ = load_model(model_path)
        return PruneTarget.for_image_model(model, ["predictions"], model_payload,
                                           "retrain it with train_config.pretrained_model_path (tf1 spec) or "
                                           "train.pretrained_model_path (PyTorch spec) pointing here")
