"""`evaluate` for LaneNet: any backend on the validation sources (or -i/-l), TuSimple and CULane scores."""

from __future__ import annotations

import logging
from pathlib import Path

from taokit.engine.files import atomic_write_text
from taokit.errors import ModelError
from taokit.requests import EvaluateRequest
from taokit.results import EvaluationResult, Table
from taokit.tasks.common.evaluate import check_input_size, write_metrics
from taokit.tasks.common.evaluate import evaluation_samples as common_samples
from taokit.tasks.lanenet.data import LaneReport, read_lane_dataset
from taokit.tasks.lanenet.runner import LaneNetRunner, open_runner
from taokit.tasks.lanenet.scoring import evaluate_lanes
from taokit.tasks.lanenet.spec import LaneNetExperiment
from taokit.tasks.lanenet.training import eval_loader, load_splits, read_sources

log = logging.getLogger("taokit.lanenet")
SUBMISSION = "tusimple_predictions.json"


def evaluation_samples(spec: LaneNetExperiment, request: EvaluateRequest) -> list:
    d = spec.dataset_config

    def labelled(images: Path, labels: Path) -> tuple[list, LaneReport]:
        report = LaneReport()
        return read_lane_dataset(images, labels, d.image_extension, report), report

    def training() -> tuple[list, LaneReport]:
        samples, _, report = load_splits(spec)
        return samples, report

    def validation() -> tuple[list, LaneReport]:
        report = LaneReport()
        return read_sources(d.validation_data_sources, d.image_extension, report), report

    return common_samples(request, labelled=labelled, training=training, validation=validation,
                          validation_keys="dataset_config.validation_data_sources")


def open_spec_runner(spec: LaneNetExperiment, request: EvaluateRequest) -> LaneNetRunner:
    """The request's model on its backend, refused when its input size is not the spec's."""
    runner = open_runner(request.model_path, backend=request.backend, device=request.device, input_hw=spec.input_hw)
    try:
        check_input_size(request.model_path, runner.input_hw, spec.input_hw)
    except ModelError:
        runner.close()
        raise
    return runner


def _warn_slow_frames(timed: dict, images: int) -> None:
    if timed["frames_over_time_limit"]:
        log.warning("%d of %d frames took longer than %g ms on this machine: TuSimple's official timed score gives "
                    "them 0 (%.4f), the accuracy above does not; the times depend on the machine, not the model "
                    "(evaluation_config.tusimple_time_limit_ms sets the limit, 0 = off)",
                    timed["frames_over_time_limit"], images, timed["time_limit_ms"], timed["accuracy"])


def run_evaluate(spec: LaneNetExperiment, request: EvaluateRequest) -> EvaluationResult:
    with open_spec_runner(spec, request) as runner:
        samples = evaluation_samples(spec, request)
        loader = eval_loader(samples, spec, request.batch_size)
        log.info("evaluating %s (%s) on %d images", request.model_path, runner.backend.name, len(samples))
        scores = evaluate_lanes(runner.predict, loader, samples, spec, total=len(loader))
    metrics = scores.to_dict()
    t, timed, c, p = metrics["tusimple"], metrics["tusimple_timed"], metrics["culane"], metrics["pixel"]
    lines = [f"TuSimple accuracy {t['accuracy']:.4f}, FP {t['fp']:.4f}, FN {t['fn']:.4f} ({len(samples)} images)",
             f"CULane F1 {c['f1']:.4f} (precision {c['precision']:.4f}, recall {c['recall']:.4f}); "
             f"pixel IoU {p['iou']:.4f}, F1 {p['f1']:.4f}"]
    if timed["time_limit_ms"]:
        lines.append(f"TuSimple official timed accuracy {timed['accuracy']:.4f} (frames over "
                     f"{timed['time_limit_ms']:g} ms score 0: {timed['frames_over_time_limit']} of {len(samples)})")
        _warn_slow_frames(timed, len(samples))
    if request.results_dir is not None:
        out = Path(request.results_dir)
        write_metrics(out, {**metrics, "model": str(request.model_path)})
        atomic_write_text(out / SUBMISSION, "".join(line + "\n" for line in scores.submission))
        lines += [f"metrics: {out / 'metrics.json'}", f"TuSimple predictions: {out / SUBMISSION}"]
    table = Table("LaneNet evaluation", ["metric", "value"], [
        ["TuSimple accuracy", t["accuracy"]], ["TuSimple FP", t["fp"]], ["TuSimple FN", t["fn"]],
        *([["TuSimple official timed accuracy", timed["accuracy"]]] if timed["time_limit_ms"] else []),
        ["CULane precision", c["precision"]], ["CULane recall", c["recall"]], ["CULane F1", c["f1"]],
        ["pixel IoU", p["iou"]], ["pixel F1", p["f1"]]])
    headline = {"tusimple_accuracy": t["accuracy"], "tusimple_fp": t["fp"], "tusimple_fn": t["fn"],
                "tusimple_timed_accuracy": timed["accuracy"],
                "culane_f1": c["f1"], "pixel_iou": p["iou"]}
    return EvaluationResult(lines=lines, tables=[table], data={"metrics": metrics}, metrics=headline)
