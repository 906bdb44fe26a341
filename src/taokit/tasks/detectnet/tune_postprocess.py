"""`tune_postprocess`: search each class's clustering for the best AP, without retraining.

The network runs once over the validation set; its raw outputs are kept and re-clustered for every
candidate (algorithm, coverage threshold, DBSCAN eps / min samples / confidence, NMS IoU, minimum box
height). Each class keeps the candidate with its best AP under the spec's own AP mode; the spec's
settings are candidate 0, so no class can get worse. Outputs: the full train spec with the best
`postprocessing_config`, TAO's inference spec with the same clustering, and every candidate's APs.

taokit's coverage_peak_window stays as the spec sets it: TAO's AP counts every detection of an image, so
it always prefers more candidates, while a scorer that keeps an image's top 100 boxes (COCO's) rewards the
fewer, better-ranked boxes of peaks on dense objects; that is the user's call. So does nms_box_voting_iou:
it tightens boxes, which AP at the spec's one IoU threshold barely sees and COCO's AP50-95 does.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import DataLoader

from taokit.data.records import BoxLabel, Detection
from taokit.engine.files import atomic_write_csv, atomic_write_text
from taokit.engine.progress import Progress
from taokit.requests import EvaluateRequest
from taokit.results import Table, TuningResult
from taokit.spec.write import to_prototext
from taokit.tasks.detectnet.dataset import EvalDataset, collate_eval, to_samples
from taokit.tasks.detectnet.evaluate import _records
from taokit.tasks.detectnet.metrics import DetectionMetrics, evaluate_with_spec
from taokit.tasks.detectnet.postprocess import ClassPostprocess, postprocess
from taokit.tasks.detectnet.runner import DetectNetRunner, open_runner
from taokit.tasks.detectnet.spec import DetectNetExperiment, DetectNetInferenceSpec
from taokit.tasks.detectnet.spec.postprocess import ClusteringConfig

log = logging.getLogger("taokit.detectnet")
CANDIDATES = 60


@dataclass
class _Outputs:
    cov: list[np.ndarray]
    bbox: list[np.ndarray]
    truth: list[list[BoxLabel]]


def _run_network(runner: DetectNetRunner, spec: DetectNetExperiment, request: EvaluateRequest) -> _Outputs:
    samples = to_samples(_records(spec, request), spec.class_names, spec.dataset_config.target_class_mapping)
    loader = DataLoader(EvalDataset(samples, spec), batch_size=request.batch_size or 8, collate_fn=collate_eval)
    outputs = _Outputs([], [], [])
    for images, boxes, ids in Progress(len(loader), "network")(loader):
        cov, bbox = runner.predict(images.numpy().astype(np.float32) * (1.0 / 255.0))
        outputs.cov += list(cov)
        outputs.bbox += list(bbox)
        for image_boxes, image_ids in zip(boxes, ids, strict=True):
            outputs.truth.append([BoxLabel(spec.class_names[int(c)], *map(float, b))
                                  for b, c in zip(image_boxes, image_ids, strict=True)])
    return outputs


def candidates(base: ClusteringConfig, count: int, seed: int = 0) -> list[ClusteringConfig]:
    """The spec's own settings first, then a seeded sample of the space (coverage thresholds log-spaced)."""
    rng = np.random.default_rng(seed)
    out = [base]
    for _ in range(count):
        out.append(ClusteringConfig(
            clustering_algorithm=str(rng.choice(["DBSCAN", "NMS", "HYBRID"])),
            coverage_threshold=float(rng.choice([0.001, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3])),
            dbscan_eps=float(rng.choice([0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6])),
            dbscan_min_samples=int(rng.choice([0, 1, 2, 3])),
            dbscan_confidence_threshold=float(rng.choice([0.0, 0.01, 0.05, 0.1, 0.2, 0.4])),
            nms_iou_threshold=float(rng.choice([0.2, 0.3, 0.4, 0.5, 0.6, 0.7])),
            minimum_bounding_box_height=int(rng.choice([0, 2, 4, 8])),
            coverage_peak_window=base.coverage_peak_window,  # the user's choices: see the module docstring
            nms_box_voting_iou=base.nms_box_voting_iou,
            neighborhood_size=base.neighborhood_size))
    return out


def _detections(outputs: _Outputs, spec: DetectNetExperiment, params: dict[str, ClassPostprocess]
                ) -> list[list[Detection]]:
    box = spec.model_config_.objective_set.bbox
    found: list[list[Detection]] = []
    for start in range(0, len(outputs.cov), 32):
        cov, bbox = np.stack(outputs.cov[start:start + 32]), np.stack(outputs.bbox[start:start + 32])
        found += postprocess(cov, bbox, spec.class_names, params, spec.input_hw, box.scale, box.offset)
    return found


def _ap(metrics: DetectionMetrics, name: str) -> float:
    ap = metrics.per_class[name].ap
    return -1.0 if ap is None or math.isnan(ap) else float(ap)


def _tuned_spec(spec: DetectNetExperiment, best: dict[str, ClusteringConfig]) -> DetectNetExperiment:
    data = spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["postprocessing_config"] = {"target_class_config": {
        name: {"clustering_config": _written(config)} for name, config in best.items()}}
    return DetectNetExperiment.model_validate(data)


def _inference_spec(spec: DetectNetExperiment, best: dict[str, ClusteringConfig], model: Path
                    ) -> DetectNetInferenceSpec:
    h, w = spec.input_hw
    return DetectNetInferenceSpec.model_validate({
        "inferencer_config": {"target_classes": spec.class_names, "image_height": h, "image_width": w,
                              "batch_size": spec.evaluation_config.batch_size  # evaluate's batches
                              or spec.training_config.batch_size_per_gpu,
                              "stride": spec.model_config_.output_stride, "tlt_config": {"model": str(model)}},
        "bbox_handler_config": {"classwise_bbox_handler_config": {
            name: {"clustering_config": _written(as_inference_clustering(c))} for name, c in best.items()}}})


def _written(config: ClusteringConfig) -> dict[str, object]:
    """A clustering as the tuned specs write it: TAO's keys, and taokit's extensions only where they are on
    (TAO would refuse the keys)."""
    unused = {name for name, info in ClusteringConfig.model_fields.items()
              if (info.description or "").startswith("taokit extension") and getattr(config, name) == info.default}
    return config.model_dump(mode="json", exclude={"neighborhood_size", *unused})


# The smallest positive float32: what a zero becomes where the inference spec must keep it "set". TAO's
# proto3 reads a 0 there as unset (NMS IoU 0.3, confidence 0.1); this reads back nonzero in TAO and, against
# float32 network outputs, keeps exactly what 0 keeps.
SMALLEST_SET_VALUE = 1e-45


def as_inference_clustering(config: ClusteringConfig) -> ClusteringConfig:
    """The train spec's clustering written so that the inference spec gives the same detections.

    An NMS confidence threshold of 0 keeps every candidate, and candidates already lie above the
    coverage threshold, so that threshold means the same; an NMS IoU of 0 (suppress any overlap) needs
    the smallest value proto3 keeps.
    """
    update: dict[str, float] = {}
    if config.nms_confidence_threshold == 0:
        update["nms_confidence_threshold"] = config.coverage_threshold or SMALLEST_SET_VALUE
    if config.nms_iou_threshold == 0:
        update["nms_iou_threshold"] = SMALLEST_SET_VALUE
    return config.model_copy(update=update)


def tune_postprocess(spec: DetectNetExperiment, request: EvaluateRequest) -> TuningResult:
    runner = open_runner(request.model_path, backend=request.backend, device=request.device,
                         class_names=spec.class_names, input_hw=spec.input_hw)
    try:
        outputs = _run_network(runner, spec, request)
    finally:
        runner.close()
    names = spec.class_names
    pools = {name: candidates(spec.clustering_config(name), CANDIDATES, seed=i) for i, name in enumerate(names)}
    rows, best, best_ap, before = [], {}, {}, None
    for k in Progress(CANDIDATES + 1, "candidates")(range(CANDIDATES + 1)):
        params = {n: ClassPostprocess(pools[n][k], confidence_rule="evaluation") for n in names}
        metrics = evaluate_with_spec(outputs.truth, _detections(outputs, spec, params), spec)
        before = metrics if before is None else before
        for name in names:
            if _ap(metrics, name) > best_ap.get(name, -math.inf):
                best[name], best_ap[name] = pools[name][k], _ap(metrics, name)
        rows.append([k, *(f"{_ap(metrics, n):.4f}" for n in names), f"{metrics.mAP:.4f}",
                     *(_describe(pools[n][k]) for n in names)])
    tuned = _tuned_spec(spec, best)
    after = evaluate_with_spec(outputs.truth, _detections(
        outputs, spec, {n: ClassPostprocess(best[n], confidence_rule="evaluation") for n in names}), spec)
    return _write(request, spec, tuned, best, before, after, rows)  # type: ignore[arg-type]


def _describe(c: ClusteringConfig) -> str:
    return (f"{c.clustering_algorithm} cov>{c.coverage_threshold} eps={c.dbscan_eps} min={c.dbscan_min_samples} "
            f"conf>{c.dbscan_confidence_threshold} nms_iou={c.nms_iou_threshold} min_h={c.minimum_bounding_box_height}"
            + (f" peak={c.coverage_peak_window}" if c.coverage_peak_window else "")
            + (f" vote_iou={c.nms_box_voting_iou}" if c.nms_box_voting_iou else ""))


def _write(request: EvaluateRequest, spec: DetectNetExperiment, tuned: DetectNetExperiment,
           best: dict[str, ClusteringConfig], before: DetectionMetrics, after: DetectionMetrics,
           rows: list[list[object]]) -> TuningResult:
    out = Path(request.results_dir or ".")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "spec.txt", to_prototext(tuned))
    atomic_write_text(out / "inference_spec.txt", to_prototext(_inference_spec(spec, best, request.model_path)))
    header = ["candidate", *(f"AP_{n}" for n in spec.class_names), "mAP", *(f"clustering_{n}" for n in spec.class_names)]
    atomic_write_csv(out / "postprocess_search.csv", [header, *rows])
    table = Table(f"post-processing search ({len(rows)} candidates, AP {spec.evaluation_config.average_precision_mode})",
                  ["class", "AP before", "AP after", "detections before", "detections after", "GT", "clustering"],
                  [[n, before.per_class[n].ap, after.per_class[n].ap, before.per_class[n].num_det,
                    after.per_class[n].num_det, after.per_class[n].num_gt, _describe(best[n])]
                   for n in spec.class_names])
    return TuningResult(metric="mAP", before=before.mAP, after=after.mAP, lines=[f"mAP {before.mAP:.4f} -> {after.mAP:.4f}",
                         f"train spec with the best post-processing: {out / 'spec.txt'}",
                         f"inference spec: {out / 'inference_spec.txt'}", f"every candidate: {out / 'postprocess_search.csv'}"],
                  tables=[table], data={"mAP_before": before.mAP, "mAP_after": after.mAP})
