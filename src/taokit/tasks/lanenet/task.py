"""The lanenet task: LaneNet (binary segmentation + pixel embeddings + clustering) on TuSimple, CULane or
instance-mask labels, scored with TuSimple's and CULane's official rules.

Heavy modules (torch, the spec schemas) are imported inside the methods, so that the CLI can list the
task and what it supports without loading them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from taokit.tasks.base import GeneratedDataset, Task, TrainingSetup

if TYPE_CHECKING:
    from torch import nn

    from taokit.automl.plan import AutoMLPlan
    from taokit.deploy.deepstream import DeepStreamConfig
    from taokit.engine.fit import TrainEnv
    from taokit.optimize.plan import CalibrationSource, ExportPlan, PruneTarget
    from taokit.requests import EvaluateRequest, InferenceRequest
    from taokit.results import EvaluationResult, Result, TuningResult
    from taokit.runtime.base import ModelIO
    from taokit.spec.base import SpecModel
    from taokit.tasks.lanenet.spec import LaneNetExperiment, LaneNetInferenceSpec
    from taokit.tasks.lanenet.spec.convert import LaneConvertSpec


class LaneNetTask(Task["LaneNetExperiment"]):
    name = "lanenet"
    summary = "lane detection (LaneNet; TuSimple/CULane data and official metrics)"
    action_spec_kinds = {"train": "experiment", "evaluate": "experiment", "prune": "experiment",
                         "export": "experiment", "gen_trt_engine": "experiment", "dataset_convert": "dataset_convert",
                         "validate": "experiment", "tune_postprocess": "experiment"}
    default_specs_package = "taokit.tasks.lanenet.default_specs"
    resume_exempt = ("train_config.epochs", "train_config.checkpoint_interval", "train_config.validation_period",
                     "train_config.n_workers", "evaluation_config", "postprocessing_config")

    def schemas(self) -> dict[str, type[SpecModel]]:
        from taokit.tasks.lanenet.spec import LaneNetExperiment, LaneNetInferenceSpec
        from taokit.tasks.lanenet.spec.convert import LaneConvertSpec

        return {"experiment": LaneNetExperiment, "inference": LaneNetInferenceSpec,
                "dataset_convert": LaneConvertSpec}

    def model_in_spec(self, spec: SpecModel, action: str) -> Path | None:
        from taokit.tasks.lanenet.spec import LaneNetInferenceSpec

        if isinstance(spec, LaneNetInferenceSpec) and spec.inferencer_config.model_path:
            return Path(spec.inferencer_config.model_path)
        return None

    def generate_dataset(self, output_dir: Path, *, num_images: int | None, seed: int) -> GeneratedDataset:
        from taokit.tasks.lanenet.demo_data import generate

        counts = generate(output_dir, num_images or 300, seed=seed)
        return GeneratedDataset({f"{split} images": n for split, n in counts.items()}, [
            f"images: {output_dir / 'images'}",
            f"TuSimple labels: {output_dir / 'train_labels'}, {output_dir / 'val_labels'}"])

    def convert_dataset(self, spec: LaneConvertSpec, output_prefix: Path, *, strict: bool) -> Result:
        from taokit.tasks.lanenet.convert import convert_dataset

        return convert_dataset(spec, output_prefix)

    def automl_plan(self, spec: LaneNetExperiment) -> AutoMLPlan:
        """Learning rates and soft start, the regularizer type, and the embedding loss's weight."""
        from taokit.automl.plan import AutoMLPlan, soft_start_space
        from taokit.automl.space import Hyperparameter

        t = spec.train_config
        space, baseline = soft_start_space("train_config.learning_rate.soft_start_annealing_schedule", (1e-4, 1e-2),
                                           t.learning_rate.soft_start_annealing_schedule)
        space += [Hyperparameter("train_config.regularizer.type", "choice", choices=("NO_REG", "L1", "L2")),
                  Hyperparameter("loss_config.embedding_weight", "float", 0.25, 2.0)]
        baseline.update({"train_config.regularizer.type": t.regularizer.type,
                         "loss_config.embedding_weight": min(max(spec.loss_config.embedding_weight, 0.25), 2.0)})
        return AutoMLPlan(space, "tusimple_accuracy", "train_config.epochs", ["train_config.validation_period"],
                          baseline)

    def build_training(self, spec: LaneNetExperiment, env: TrainEnv) -> TrainingSetup:
        from taokit.tasks.lanenet.training import build_training

        return build_training(spec, env)

    def validate_dataset(self, spec: LaneNetExperiment | LaneConvertSpec, output_dir: Path | None) -> Result:
        from taokit.tasks.lanenet.validate import validate_dataset

        return validate_dataset(spec, output_dir)

    def tune_postprocess(self, spec: LaneNetExperiment, request: EvaluateRequest) -> TuningResult:
        from taokit.tasks.lanenet.tune_postprocess import tune_postprocess

        return tune_postprocess(spec, request)

    def evaluate(self, spec: LaneNetExperiment, request: EvaluateRequest) -> EvaluationResult:
        from taokit.tasks.lanenet.evaluate import run_evaluate

        return run_evaluate(spec, request)

    def inference(self, spec: LaneNetExperiment | LaneNetInferenceSpec | None, request: InferenceRequest) -> Result:
        from taokit.tasks.lanenet.inference import run_inference

        return run_inference(spec, request)

    def export_plan(self, model_path: Path, spec: LaneNetExperiment | None) -> ExportPlan:
        from taokit.tasks.lanenet.export import export_plan

        return export_plan(model_path, spec)

    def calibration_source(self, spec: LaneNetExperiment | None, chw: tuple[int, int, int]) -> CalibrationSource:
        from taokit.tasks.lanenet.export import calibration_source

        return calibration_source(spec, chw)

    def deepstream_for_onnx(self, onnx_path: Path, spec: SpecModel | None) -> DeepStreamConfig:
        from taokit.tasks.lanenet.export import deepstream_for_onnx
        from taokit.tasks.lanenet.spec import LaneNetExperiment

        return deepstream_for_onnx(onnx_path, spec if isinstance(spec, LaneNetExperiment) else None)

    def load_torch(self, model_path: Path) -> tuple[nn.Module, ModelIO]:
        from taokit.tasks.lanenet.runner import load_torch

        return load_torch(model_path)

    def prune_target(self, model_path: Path) -> PruneTarget:
        from taokit.optimize.plan import PruneTarget
        from taokit.tasks.lanenet.network import HEADS, load_model, model_payload

        model, _ = load_model(model_path)
        heads = HEADS[cast(Any, model).arch.arch]  # LaneNet's networks differ by arch; each records it
        return PruneTarget.for_image_model(model, list(heads), model_payload,
                                           "retrain it with model_config.pretrained_model_file pointing here and "
                                           "load_graph: true")
