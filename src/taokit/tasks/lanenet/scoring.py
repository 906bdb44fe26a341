"""Scoring lane predictions: TuSimple's accuracy/FP/FN, CULane's F1 and the binary mask's pixel IoU/F1.

TuSimple is scored at the labels' own h_samples and image size; labels in other layouts are sampled at
TuSimple's rows (160..710 step 10 at 720 px) scaled to the image height.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch

from taokit.engine.progress import Progress
from taokit.tasks.lanenet.culane_metric import CULaneAccumulator
from taokit.tasks.lanenet.data import TUSIMPLE_NO_POINT, LaneSample
from taokit.tasks.lanenet.dataset import draw_targets, line_thickness
from taokit.tasks.lanenet.postprocess import LanePrediction, output_rows, predict_lanes
from taokit.tasks.lanenet.spec import LaneNetExperiment
from taokit.tasks.lanenet.tusimple_metric import TuSimpleAccumulator

# A predictor maps a float32 NCHW batch in [0, 1] to (lane probability N x 1 x H x W, embedding N x D x H x W).
Predictor = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
# The run times of TuSimple's timed score come from this clock; tests replace it so no result depends on speed.
clock: Callable[[], float] = time.perf_counter


def torch_predictor(model: torch.nn.Module, device: torch.device) -> Predictor:
    def predict(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            logits, embedding = model(torch.from_numpy(batch).to(device))
            prob = torch.softmax(logits.float(), dim=1)[:, 1:2]
        return prob.cpu().numpy(), embedding.float().cpu().numpy()

    return predict


def tusimple_truth(sample: LaneSample, image_hw: tuple[int, int], spec: LaneNetExperiment
                   ) -> tuple[list[list[float]], list[int]]:
    """(GT lanes as x per row, rows) for TuSimple scoring."""
    if sample.h_samples is not None and sample.tusimple_lanes is not None:
        return [list(lane) for lane in sample.tusimple_lanes], list(sample.h_samples)
    rows = output_rows(spec.postprocessing_config, image_hw[0])
    lanes = []
    for lane in sample.lanes:
        ys, xs = lane[:, 1], lane[:, 0]
        values = np.interp(rows, ys, xs)
        inside = (np.asarray(rows) >= ys.min()) & (np.asarray(rows) <= ys.max())
        lanes.append([round(float(v), 1) if k else float(TUSIMPLE_NO_POINT) for v, k in zip(values, inside,
                                                                                          strict=True)])
    return lanes, rows


@dataclass
class LaneScores:
    """TuSimple's accuracy as the network and post-processing earn it (no time rule: the same on any
    machine, what tune_postprocess optimises), TuSimple's official timed score beside it, CULane, pixels."""

    tusimple: TuSimpleAccumulator = field(default_factory=lambda: TuSimpleAccumulator(time_limit_ms=0.0))
    tusimple_timed: TuSimpleAccumulator = field(default_factory=TuSimpleAccumulator)
    culane: CULaneAccumulator = field(default_factory=CULaneAccumulator)
    pixel_tp: int = 0
    pixel_fp: int = 0
    pixel_fn: int = 0
    submission: list[str] = field(default_factory=list)  # TuSimple prediction lines

    def to_dict(self) -> dict[str, object]:
        tp, fp, fn = self.pixel_tp, self.pixel_fp, self.pixel_fn
        timed = self.tusimple_timed
        return {"images": self.tusimple.images, "tusimple": self.tusimple.score().to_dict(),
                "tusimple_timed": {**timed.score().to_dict(), "time_limit_ms": timed.time_limit_ms,
                                   "frames_over_time_limit": timed.over_time_limit},
                "culane": self.culane.to_dict(),
                "pixel": {"iou": tp / max(tp + fp + fn, 1), "f1": 2 * tp / max(2 * tp + fp + fn, 1)}}


def evaluate_lanes(predict: Predictor, batches: Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
                   samples: list[LaneSample], spec: LaneNetExperiment, total: int = 0,
                   show_progress: bool = True) -> LaneScores:
    """Run `predict` over (images, original sizes, indices) batches and score the lanes it finds."""
    e = spec.evaluation_config
    scores = LaneScores(tusimple_timed=TuSimpleAccumulator(e.tusimple_time_limit_ms),
                        culane=CULaneAccumulator(e.culane_lane_width, e.culane_iou_threshold))
    thickness = line_thickness(spec.train_config.lane_width, spec.input_hw[1])
    for images, sizes, indices in Progress(total, "evaluate", enabled=show_progress)(batches):
        start = clock()
        prob, embedding = predict(images.numpy().astype(np.float32) * (1.0 / 255.0))
        forward_ms = (clock() - start) * 1000.0 / len(images)
        for i, index in enumerate(indices.tolist()):
            sample, image_hw = samples[index], (int(sizes[i][0]), int(sizes[i][1]))
            truth, rows = tusimple_truth(sample, image_hw, spec)
            started = clock()
            lanes = predict_lanes(prob[i, 0], embedding[i], image_hw, rows, spec.postprocessing_config,
                                  spec.model_config_.anchor_stride)
            run_time = forward_ms + (clock() - started) * 1000.0
            _score_image(scores, sample, lanes, truth, rows, image_hw, run_time)
            _score_pixels(scores, prob[i, 0] > spec.postprocessing_config.binary_threshold, sample, image_hw,
                          prob.shape[-2:], thickness)
    return scores


def _score_image(scores: LaneScores, sample: LaneSample, lanes: list[LanePrediction], truth: list[list[float]],
                 rows: list[int], image_hw: tuple[int, int], run_time_ms: float) -> None:
    predicted = [list(lane.xs) for lane in lanes]
    run_time = round(run_time_ms, 3)  # scored as written, so TuSimple's script gives the same numbers
    scores.tusimple.add(predicted, truth, rows, run_time)
    scores.tusimple_timed.add(predicted, truth, rows, run_time)
    scores.submission.append(json.dumps({"raw_file": sample.raw_file, "lanes": predicted, "run_time": run_time}))
    points = [np.asarray(lane.points(rows), np.float64) for lane in lanes]
    scores.culane.add([p for p in points if len(p)], list(sample.lanes), image_hw)


def _score_pixels(scores: LaneScores, predicted: np.ndarray, sample: LaneSample, image_hw: tuple[int, int],
                  net_hw: tuple[int, int], thickness: int) -> None:
    scale = np.array([net_hw[1] / image_hw[1], net_hw[0] / image_hw[0]], np.float32)
    truth, _ = draw_targets([lane * scale for lane in sample.lanes], tuple(net_hw), thickness)
    truth = truth.astype(bool)
    scores.pixel_tp += int(np.count_nonzero(predicted & truth))
    scores.pixel_fp += int(np.count_nonzero(predicted & ~truth))
    scores.pixel_fn += int(np.count_nonzero(~predicted & truth))
