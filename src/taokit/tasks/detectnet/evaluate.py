"""`evaluate` for DetectNet_v2: any backend on the validation fold (or given images), TAO's metrics."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import DataLoader

from taokit.data.kitti import format_detection, read_kitti_dataset
from taokit.data.records import Detection
from taokit.engine.files import atomic_write_text
from taokit.requests import EvaluateRequest
from taokit.results import EvaluationResult, Table
from taokit.tasks.common.evaluate import check_input_size, evaluation_samples, write_metrics
from taokit.tasks.detectnet.augment import to_source_pixels
from taokit.tasks.detectnet.data import load_training_records
from taokit.tasks.detectnet.dataset import EvalDataset, Sample, collate_eval, to_samples
from taokit.tasks.detectnet.metrics import DetectionMetrics, save_pr_curves
from taokit.tasks.detectnet.runner import open_runner
from taokit.tasks.detectnet.scoring import evaluate_detections
from taokit.tasks.detectnet.spec import DetectNetExperiment

log = logging.getLogger("taokit.detectnet")


def _records(spec: DetectNetExperiment, opts: EvaluateRequest) -> list:
    def labelled(images: Path, labels: Path) -> tuple[list, Any]:
        records, report = read_kitti_dataset(images, labels, strict=opts.strict)
        return [replace(r, image=str(r.path(images))) for r in records], report

    def split(training: bool) -> tuple[list, Any]:
        records = load_training_records(spec.dataset_config, strict=opts.strict)
        return (records.train if training else records.val), records.report

    return evaluation_samples(opts, labelled=labelled, training=lambda: split(True), validation=lambda: split(False),
                              validation_keys="dataset_config.validation_fold (or validation_data_source)")


def run_evaluate(spec: DetectNetExperiment, opts: EvaluateRequest) -> EvaluationResult:
    model_path = opts.model_path
    with open_runner(model_path, backend=opts.backend, device=opts.device, class_names=spec.class_names,
                     input_hw=spec.input_hw) as runner:
        check_input_size(model_path, runner.info.input_hw, spec.input_hw)
        samples = to_samples(_records(spec, opts), spec.class_names, spec.dataset_config.target_class_mapping)
        batch = opts.batch_size or spec.evaluation_config.batch_size or spec.training_config.batch_size_per_gpu
        loader = DataLoader(EvalDataset(samples, spec, strict=opts.strict), batch_size=batch,
                            collate_fn=collate_eval, num_workers=min(spec.training_config.n_workers, 1))
        log.info("evaluating %s (%s) on %d images", model_path, runner.backend.name, len(samples))
        metrics, found = evaluate_detections(runner.predict, loader, spec, total=len(loader))
    detections = sum(r.num_det for r in metrics.per_class.values())
    objects = sum(r.num_gt for r in metrics.per_class.values())
    if objects and detections < objects / 4:
        log.warning("%d detections for %d ground-truth objects: the post-processing may discard most of what the "
                    "network finds; try `tao detectnet tune_postprocess -m %s -r DIR`", detections, objects,
                    model_path)
    lines = [f"mAP ({spec.evaluation_config.average_precision_mode}): {metrics.mAP:.4f}",
             f"COCO mAP@[.5:.95]: {metrics.map:.4f}  AP50: {metrics.map_50:.4f}  AP75: {metrics.map_75:.4f}"]
    if opts.results_dir is not None:
        write_metrics(opts.results_dir, metrics.to_dict())
        save_pr_curves(metrics, opts.results_dir / "pr_curves.png")
        folder = write_detections(opts.results_dir / "detections", samples, found, spec)
        lines += [f"metrics: {opts.results_dir / 'metrics.json'}", f"PR curves: {opts.results_dir / 'pr_curves.png'}",
                  f"scored detections (KITTI, image pixels): {folder}"]
    headline = {"mAP": metrics.mAP, "coco_mAP": metrics.map, "AP50": metrics.map_50, "AP75": metrics.map_75,
                **{f"AP_{name}": r.ap for name, r in metrics.per_class.items()}}
    return EvaluationResult(lines=lines, tables=[_table(metrics)], data={"metrics": metrics.to_dict()},
                            metrics=headline)


def write_detections(folder: Path, samples: list[Sample], found: list[list[Detection]],
                     spec: DetectNetExperiment) -> Path:
    """The detections evaluate scored, as `inference` writes them: one KITTI file per image, in the stored
    image's pixels, so they can be rescored (pycocotools) or compared with inference's labels/."""
    from PIL import Image

    pre = spec.augmentation_config.preprocessing
    for sample, detections in zip(samples, found, strict=True):
        with Image.open(sample.image) as image:
            size = image.size
        boxes = to_source_pixels(np.array([[d.x1, d.y1, d.x2, d.y2] for d in detections]), size, pre)
        lines = [format_detection(d.class_name, *box, d.confidence) + "\n"
                 for d, box in zip(detections, boxes.tolist(), strict=True)]
        atomic_write_text(folder / f"{Path(sample.image).stem}.txt", "".join(lines))
    return folder


def _table(metrics: DetectionMetrics) -> Table:
    rows = []
    for name, r in metrics.per_class.items():
        rows.append([name, r.ap, metrics.iou_thresholds[name], r.num_gt, r.num_det, r.tp, r.fp])
    rows.append(["mAP", metrics.mAP, "", "", "", "", ""])
    return Table(f"DetectNet_v2 evaluation ({metrics.mode})", ["class", "AP", "IoU", "GT", "detections", "TP", "FP"],
                 rows)
