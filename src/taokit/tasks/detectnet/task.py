"""The detectnet task: DetectNet_v2 specs, model, targets, clustering and metrics behind the Task protocol."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from taokit.results import Result, Table
from taokit.tasks.base import GeneratedDataset, Task
from taokit.tasks.detectnet.spec import DatasetExportConfig, DetectNetExperiment, DetectNetInferenceSpec

if TYPE_CHECKING:
    from taokit.engine.fit import FitConfig, FitParts, TrainEnv
    from taokit.optimize.plan import ExportPlan, PruneTarget


class DetectNetTask(Task):
    name = "detectnet"
    spec_kinds = {
        "experiment": DetectNetExperiment,
        "dataset_convert": DatasetExportConfig,
        "inference": DetectNetInferenceSpec,
    }
    action_spec_kinds = {
        "dataset_convert": "dataset_convert",
        "train": "experiment",
        "evaluate": "experiment",
        "prune": "experiment",
        "export": "experiment",
        "gen_trt_engine": "experiment",
    }
    implemented = frozenset({"default_specs", "train", "generate", "dataset_convert", "evaluate", "inference",
                             "export", "gen_trt_engine", "benchmark", "prune"})
    default_specs_package = "taokit.tasks.detectnet.default_specs"
    resume_exempt = (
        "training_config.num_epochs", "training_config.checkpoint_interval", "training_config.n_workers",
        "training_config.visualizer", "evaluation_config", "postprocessing_config",
    )

    def build_training(self, spec: DetectNetExperiment, env: TrainEnv) -> tuple[FitParts, FitConfig, Any]:
        from taokit.tasks.detectnet.training import build_training

        return build_training(spec, env)

    def generate_dataset(self, output_dir: Path, *, num_images: int | None, seed: int) -> GeneratedDataset:
        from taokit.tasks.detectnet.demo_data import generate

        counts = generate(output_dir, num_images or 400, seed=seed)
        return GeneratedDataset(counts, [
            f"images and KITTI labels: {output_dir / 'training' / 'image_2'}, {output_dir / 'training' / 'label_2'}",
            f"unlabelled test images: {output_dir / 'testing' / 'image_2'}"])

    def convert_dataset(self, spec: DatasetExportConfig, output_prefix: Path, *, strict: bool) -> Result:
        import logging

        from taokit.tasks.detectnet.dataset_convert import convert_dataset

        summary = convert_dataset(spec, output_prefix, strict=strict)
        for warning in summary.report.warnings():
            logging.getLogger("taokit.detectnet").warning(warning)
        folds = ", ".join(f"fold {k}: {v}" for k, v in sorted(summary.images_per_fold.items(),
                                                                 key=lambda kv: (kv[0] is None, kv[0] or 0)))
        rows = [[name, count] for name, count in sorted(summary.objects_per_class.items())]
        return Result(
            lines=[f"wrote {len(summary.shard_paths)} shard file(s) with prefix {output_prefix} ({folds} images)",
                   f"point dataset_config.data_sources.tfrecords_path at: {output_prefix}*"],
            tables=[Table("objects per class", ["class", "objects"], rows)],
            data={"images_per_fold": {str(k): v for k, v in summary.images_per_fold.items()},
                  "objects_per_class": summary.objects_per_class})

    def evaluate(self, spec: DetectNetExperiment, model_path: Path, options: Any) -> Result:
        from taokit.tasks.detectnet.evaluate import EvaluateOptions, run_evaluate

        return run_evaluate(spec, model_path, EvaluateOptions(**vars(options)))

    def inference(self, spec: DetectNetExperiment | DetectNetInferenceSpec | None, inputs: str,
                  options: Any) -> Result:
        from taokit.tasks.detectnet.inference import InferenceOptions, run_inference

        return run_inference(spec, inputs, InferenceOptions(**vars(options)))

    def export_plan(self, model_path: Path, spec: DetectNetExperiment | None) -> ExportPlan:
        from taokit.tasks.detectnet.export import export_plan

        return export_plan(model_path, spec)

    def calibration_source(self, spec: DetectNetExperiment | None, chw: tuple[int, int, int]) -> Any:
        from taokit.tasks.detectnet.export import calibration_source

        return calibration_source(spec, chw)

    def open_backend(self, model_path: Path, *, backend: str | None = None, device: str | None = None) -> Any:
        from taokit.runtime.select import open_backend
        from taokit.tasks.detectnet.backends import load_torch

        return open_backend(model_path, load_torch=load_torch, backend=backend, device=device)

    def prune_target(self, model_path: Path) -> PruneTarget:
        import torch

        from taokit.optimize.plan import PruneTarget
        from taokit.tasks.detectnet.network import load_model, model_payload

        model, _ = load_model(model_path)
        h, w = model.arch.input_hw
        return PruneTarget(model, torch.zeros(1, 3, h, w), ["output_cov", "output_bbox"], model_payload,
                           "retrain it with model_config.pretrained_model_file pointing here and load_graph: true")
