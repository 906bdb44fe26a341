"""The detectnet task: DetectNet_v2 specs, model, targets, clustering and metrics behind the Task protocol.

Heavy modules (torch, the spec schemas) are imported inside the methods, so that the CLI can list the
task and what it supports without loading them.
"""

from __future__ import annotations

import logging
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
    from taokit.results import EvaluationResult, Result, TuningResult
    from taokit.runtime.base import ModelIO
    from taokit.spec.base import SpecModel
    from taokit.tasks.detectnet.spec import DatasetExportConfig, DetectNetExperiment, DetectNetInferenceSpec

log = logging.getLogger("taokit.detectnet")


class DetectNetTask(Task["DetectNetExperiment"]):
    name = "detectnet"
    summary = "DetectNet_v2 object detection (KITTI/COCO/YOLO data, DeepStream-ready exports)"
    action_spec_kinds = {
        "dataset_convert": "dataset_convert",
        "train": "experiment",
        "evaluate": "experiment",
        "prune": "experiment",
        "export": "experiment",
        "gen_trt_engine": "experiment",
        "tune_postprocess": "experiment",
        "validate": "experiment",
    }
    default_specs_package = "taokit.tasks.detectnet.default_specs"
    resume_exempt = (
        "training_config.num_epochs", "training_config.checkpoint_interval", "training_config.n_workers",
        "training_config.visualizer", "evaluation_config", "postprocessing_config",
    )

    def schemas(self) -> dict[str, type[SpecModel]]:
        from taokit.tasks.detectnet.spec import (
            DatasetExportConfig,
            DetectNetExperiment,
            DetectNetInferenceSpec,
        )

        return {"experiment": DetectNetExperiment, "dataset_convert": DatasetExportConfig,
                "inference": DetectNetInferenceSpec}

    def model_in_spec(self, spec: SpecModel, action: str) -> Path | None:
        from taokit.tasks.detectnet.spec import DetectNetInferenceSpec

        if isinstance(spec, DetectNetInferenceSpec) and spec.inferencer_config.model_path:
            return Path(spec.inferencer_config.model_path)
        return None

    def generate_dataset(self, output_dir: Path, *, num_images: int | None, seed: int) -> GeneratedDataset:
        from taokit.tasks.detectnet.demo_data import generate

        counts = generate(output_dir, num_images or 400, seed=seed)
        return GeneratedDataset(counts, [
            f"images and KITTI labels: {output_dir / 'training' / 'image_2'}, {output_dir / 'training' / 'label_2'}",
            f"unlabelled test images: {output_dir / 'testing' / 'image_2'}"])

    def convert_dataset(self, spec: DatasetExportConfig, output_prefix: Path, *, strict: bool) -> Result:
        from taokit.results import Result, Table
        from taokit.tasks.detectnet.dataset_convert import convert_dataset

        summary = convert_dataset(spec, output_prefix, strict=strict)
        for warning in summary.report.warnings():
            log.warning(warning)
        folds = ", ".join(f"fold {k}: {v}" for k, v in sorted(summary.images_per_fold.items(),
                                                                 key=lambda kv: (kv[0] is None, kv[0] or 0)))
        rows = [[name, count] for name, count in sorted(summary.objects_per_class.items())]
        return Result(
            lines=[f"wrote {len(summary.shard_paths)} shard file(s) with prefix {output_prefix} ({folds} images)",
                   f"point dataset_config.data_sources.tfrecords_path at: {output_prefix}*"],
            tables=[Table("objects per class", ["class", "objects"], rows)],
            data={"images_per_fold": {str(k): v for k, v in summary.images_per_fold.items()},
                  "objects_per_class": summary.objects_per_class})

    def build_training(self, spec: DetectNetExperiment, env: TrainEnv) -> TrainingSetup:
        from taokit.tasks.detectnet.training import build_training

        return build_training(spec, env)

    def evaluate(self, spec: DetectNetExperiment, request: EvaluateRequest) -> EvaluationResult:
        from taokit.tasks.detectnet.evaluate import run_evaluate

        return run_evaluate(spec, request)

    def inference(self, spec: DetectNetExperiment | DetectNetInferenceSpec | None,
                  request: InferenceRequest) -> Result:
        from taokit.tasks.detectnet.inference import run_inference

        return run_inference(spec, request)

    def automl_plan(self, spec: DetectNetExperiment) -> AutoMLPlan:
        """TAO's five: learning rates (min below max), soft_start below annealing, regularizer type, and
        the DBSCAN confidence threshold (per class here)."""
        from taokit.automl.plan import AutoMLPlan, soft_start_space
        from taokit.automl.space import Hyperparameter

        lr = spec.training_config.learning_rate
        space, baseline = ([], {}) if lr.early_stopping_annealing_schedule is not None else soft_start_space(
            "training_config.learning_rate.soft_start_annealing_schedule", (1e-5, 1e-2),
            lr.soft_start_annealing_schedule)
        space.append(Hyperparameter("training_config.regularizer.type", "choice", choices=("NO_REG", "L1", "L2")))
        baseline["training_config.regularizer.type"] = spec.training_config.regularizer.type
        for name in spec.class_names:
            key = f"postprocessing_config.target_class_config.{name}.clustering_config.dbscan_confidence_threshold"
            space.append(Hyperparameter(key, "float", 0.01, 0.8))
            baseline[key] = min(max(spec.clustering_config(name).dbscan_confidence_threshold, 0.01), 0.8)
        return AutoMLPlan(space, "mAP", "training_config.num_epochs",
                          ["evaluation_config.validation_period_during_training", "evaluation_config.first_validation_epoch"],
                          baseline)

    def validate_dataset(self, spec: DetectNetExperiment, output_dir: Path | None) -> Result:
        from taokit.tasks.detectnet.validate import validate_dataset

        return validate_dataset(spec, output_dir)

    def tune_postprocess(self, spec: DetectNetExperiment, request: EvaluateRequest) -> TuningResult:
        from taokit.tasks.detectnet.tune_postprocess import tune_postprocess

        return tune_postprocess(spec, request)

    def export_plan(self, model_path: Path, spec: DetectNetExperiment | None) -> ExportPlan:
        from taokit.tasks.detectnet.export import export_plan

        return export_plan(model_path, spec)

    def calibration_source(self, spec: DetectNetExperiment | None, chw: tuple[int, int, int]) -> CalibrationSource:
        from taokit.tasks.detectnet.export import calibration_source

        return calibration_source(spec, chw)

    def load_torch(self, model_path: Path) -> tuple[nn.Module, ModelIO]:
        from taokit.tasks.detectnet.runner import load_torch

        return load_torch(model_path)

    def deepstream_for_onnx(self, onnx_path: Path, spec: SpecModel | None) -> DeepStreamConfig:
        from taokit.tasks.detectnet.export import deepstream_for_onnx

        return deepstream_for_onnx(onnx_path, spec)

    def import_model(self, source: Path, class_names: list[str] | None, spec: SpecModel | None) -> ImportedModel:
        from taokit.optimize.plan import ImportedModel
        from taokit.tasks.detectnet.import_model import import_detectnet
        from taokit.tasks.detectnet.network import model_payload
        from taokit.tasks.detectnet.spec import DetectNetExperiment, DetectNetInferenceSpec

        input_hw = None
        if isinstance(spec, DetectNetExperiment):
            class_names, input_hw = class_names or spec.class_names, spec.input_hw
        elif isinstance(spec, DetectNetInferenceSpec):
            c = spec.inferencer_config
            class_names, input_hw = class_names or list(c.target_classes), (c.image_height, c.image_width)
        model = import_detectnet(source, class_names, input_hw)
        return ImportedModel(model, model_payload(model),
                             "fine-tune it with model_config.pretrained_model_file pointing here (load_graph: true "
                             "keeps a pruned file's widths), or evaluate, prune and export it as it is")

    def prune_target(self, model_path: Path) -> PruneTarget:
        from taokit.optimize.plan import PruneTarget
        from taokit.tasks.detectnet.network import load_model, model_payload

        model, _ = load_model(model_path)
        return PruneTarget.for_image_model(model, ["output_cov", "output_bbox"], model_payload,
                                           "retrain it with model_config.pretrained_model_file pointing here and load_graph: true")
