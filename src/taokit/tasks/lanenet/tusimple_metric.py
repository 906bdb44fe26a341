"""TuSimple's official lane accuracy, FP and FN: a Python 3 port of `LaneEval` in TuSimple's
`evaluate/lane.py` (tusimple-benchmark, Apache-2.0) that keeps every rule of the original:

- a GT lane's threshold is 20 px / cos(angle), the angle from a least-squares fit of x on y over its
  points (x >= 0); 0 with fewer than 2 points;
- a row is correct when |pred - gt| < threshold, with every negative x (no point) replaced by -100 on
  both sides, over all of the GT's rows: a missing point where the GT has none counts as correct;
- each GT lane takes its best predicted lane (one prediction may serve two GT lanes); below 0.85 it is
  a false negative; FP = predictions - matched GT lanes (it can go negative, as in the original);
- more than 4 GT lanes: one FN is forgiven and the worst lane accuracy dropped;
- more than len(gt) + 2 predictions, or run_time > 200 ms: the image scores (0, 0, 1) (the time rule
  can be moved or turned off, `time_limit_ms`, for a score that does not depend on the machine);
- per image (sum acc / max(min(4, gt), 1), fp / len(pred) or 0, fn / max(min(gt, 4), 1)), averaged over
  the GT images. A predicted lane whose length differs from h_samples is a format error.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taokit.errors import DataError

PIXEL_THRESHOLD = 20.0
POINT_THRESHOLD = 0.85
MAX_RUN_TIME_MS = 200.0


@dataclass(frozen=True)
class TuSimpleScore:
    accuracy: float
    fp: float
    fn: float

    def to_dict(self) -> dict[str, float]:
        return {"accuracy": self.accuracy, "fp": self.fp, "fn": self.fn}


def lane_angle(xs: np.ndarray, rows: np.ndarray) -> float:
    valid = xs >= 0
    if valid.sum() <= 1:
        return 0.0
    slope = np.polyfit(rows[valid].astype(np.float64), xs[valid].astype(np.float64), 1)[0]  # = LinearRegression
    return math.atan(slope)


def line_accuracy(pred: np.ndarray, gt: np.ndarray, threshold: float) -> float:
    pred = np.where(pred >= 0, pred, -100.0)
    gt = np.where(gt >= 0, gt, -100.0)
    return float(np.sum(np.abs(pred - gt) < threshold)) / len(gt)


def bench(pred: Sequence[Sequence[float]], gt: Sequence[Sequence[float]], rows: Sequence[int],
          run_time_ms: float, time_limit_ms: float = MAX_RUN_TIME_MS) -> tuple[float, float, float]:
    """(accuracy, fp, fn) of one image, exactly as LaneEval.bench (time_limit_ms 0: no time rule)."""
    if any(len(p) != len(rows) for p in pred):
        raise DataError("format of lanes error: every predicted lane needs one x per h_samples row")
    if (time_limit_ms and run_time_ms > time_limit_ms) or len(gt) + 2 < len(pred):
        return 0.0, 0.0, 1.0
    y = np.asarray(rows, np.float64)
    thresholds = [PIXEL_THRESHOLD / math.cos(lane_angle(np.asarray(g, np.float64), y)) for g in gt]
    accuracies, fn, matched = [], 0.0, 0.0
    for lane, threshold in zip(gt, thresholds, strict=True):
        best = max((line_accuracy(np.asarray(p, np.float64), np.asarray(lane, np.float64), threshold)
                    for p in pred), default=0.0)
        if best < POINT_THRESHOLD:
            fn += 1
        else:
            matched += 1
        accuracies.append(best)
    fp = len(pred) - matched
    if len(gt) > 4 and fn > 0:
        fn -= 1
    total = sum(accuracies)
    if len(gt) > 4:
        total -= min(accuracies)
    return (total / max(min(4.0, len(gt)), 1.0), fp / len(pred) if len(pred) > 0 else 0.0,
            fn / max(min(len(gt), 4.0), 1.0))


@dataclass
class TuSimpleAccumulator:
    """Averages `bench` over images, as bench_one_submit does; counts the frames over the time limit."""

    time_limit_ms: float = MAX_RUN_TIME_MS
    accuracy: float = 0.0
    fp: float = 0.0
    fn: float = 0.0
    images: int = 0
    over_time_limit: int = 0

    def add(self, pred: Sequence[Sequence[float]], gt: Sequence[Sequence[float]], rows: Sequence[int],
            run_time_ms: float) -> None:
        a, p, n = bench(pred, gt, rows, run_time_ms, self.time_limit_ms)
        self.accuracy, self.fp, self.fn, self.images = self.accuracy + a, self.fp + p, self.fn + n, self.images + 1
        self.over_time_limit += bool(self.time_limit_ms and run_time_ms > self.time_limit_ms)

    def score(self) -> TuSimpleScore:
        n = max(self.images, 1)
        return TuSimpleScore(self.accuracy / n, self.fp / n, self.fn / n)


def score_files(prediction_file: Path, ground_truth_file: Path, time_limit_ms: float = MAX_RUN_TIME_MS
                ) -> TuSimpleScore:
    """bench_one_submit: a submission (JSON lines raw_file, lanes, run_time) against TuSimple labels."""
    predictions = [json.loads(line) for line in prediction_file.read_text().splitlines() if line.strip()]
    truths = [json.loads(line) for line in ground_truth_file.read_text().splitlines() if line.strip()]
    if len(truths) != len(predictions):
        raise DataError(f"{prediction_file}: {len(predictions)} predictions for {len(truths)} labelled images")
    by_file = {t["raw_file"]: t for t in truths}
    total = TuSimpleAccumulator(time_limit_ms)
    for prediction in predictions:
        if not {"raw_file", "lanes", "run_time"} <= set(prediction):
            raise DataError(f"{prediction_file}: raw_file, lanes or run_time missing in a prediction")
        truth = by_file.get(prediction["raw_file"])
        if truth is None:
            raise DataError(f"{prediction_file}: {prediction['raw_file']} is not in {ground_truth_file}")
        total.add(prediction["lanes"], truth["lanes"], truth["h_samples"], prediction["run_time"])
    total.images = len(by_file)
    return total.score()
