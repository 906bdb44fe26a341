"""Milliseconds per frame of DetectNet_v2 `postprocess` at PeopleNet size, per clustering algorithm.

Synthetic but realistic outputs: 3 classes, 34x60 grid for a 544x960 input; 10-20 objects whose
coverage blobs span several cells with slightly noisy box predictions, plus low background noise
of which a little exceeds the coverage threshold. With --sklearn, DBSCAN mode is also timed with
TAO's own way (sklearn on 1 - IoU), for comparison.

Usage: python benchmarks/clustering.py [--frames 50] [--seed 0] [--sklearn]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from taokit.tasks.detectnet.clustering import iou_matrix
from taokit.tasks.detectnet.decode import class_candidates
from taokit.tasks.detectnet.postprocess import ClassPostprocess, postprocess
from taokit.tasks.detectnet.spec.postprocess import ClusteringConfig

CLASSES = ["person", "bag", "face"]
INPUT_HW = (544, 960)
GRID_HW = (34, 60)
SCALE, OFFSET, STRIDE = 35.0, 0.5, 16.0


def _object_box(rng: np.random.Generator, cls: int) -> np.ndarray:
    height = float(np.exp(rng.uniform(np.log(40), np.log(400 if cls == 0 else 120))))
    width = height * (0.4 if cls == 0 else rng.uniform(0.7, 1.2))
    x1 = rng.uniform(-0.1 * width, INPUT_HW[1] - 0.9 * width)
    y1 = rng.uniform(-0.1 * height, INPUT_HW[0] - 0.9 * height)
    return np.array([x1, y1, x1 + width, y1 + height])


def synthetic_frame(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """cov (3, 34, 60) and bbox (12, 34, 60) for one frame."""
    cov = rng.exponential(0.001, size=(len(CLASSES), *GRID_HW))
    bbox = rng.normal(0.3, 0.2, size=(len(CLASSES), 4, *GRID_HW))
    gcx = np.arange(GRID_HW[1]) * STRIDE + OFFSET
    gcy = (np.arange(GRID_HW[0]) * STRIDE + OFFSET)[:, None]
    for _ in range(rng.integers(10, 21)):
        cls = int(rng.choice(len(CLASSES), p=[0.7, 0.15, 0.15]))
        x1, y1, x2, y2 = _object_box(rng, cls)
        rx = max(0.25 * (x2 - x1) / STRIDE, 0.7)
        ry = max(0.25 * (y2 - y1) / STRIDE, 0.7)
        d = np.hypot((gcx - (x1 + x2) / 2) / STRIDE / rx, (gcy - (y1 + y2) / 2) / STRIDE / ry)
        blob = rng.uniform(0.6, 0.98) / (1.0 + np.exp(-6.0 * (1.0 - d)))
        mine = blob > cov[cls]
        cov[cls][mine] = blob[mine]
        truth = np.stack([(gcx - x1) + 0 * gcy, (gcy - y1) + 0 * gcx, (x2 - gcx) + 0 * gcy,
                          (y2 - gcy) + 0 * gcx]) / SCALE
        noisy = truth + rng.normal(0, 0.04, size=truth.shape)
        bbox[cls][:, mine] = noisy[:, mine]
    return cov.astype(np.float32), bbox.reshape(-1, *GRID_HW).astype(np.float32)


def _params(algorithm: str, nms_confidence: float) -> dict[str, ClassPostprocess]:
    config = ClusteringConfig(clustering_algorithm=algorithm, coverage_threshold=0.005, dbscan_eps=0.3,
                              dbscan_min_samples=1, dbscan_confidence_threshold=0.9,
                              minimum_bounding_box_height=4, nms_iou_threshold=0.3,
                              nms_confidence_threshold=nms_confidence)
    return {name: ClassPostprocess(config) for name in CLASSES}


def _median_ms(fn, frames: list) -> float:
    samples = []
    for cov, bbox in frames:
        start = time.perf_counter()
        fn(cov, bbox)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def _sklearn_dbscan(cov: np.ndarray, bbox: np.ndarray) -> None:
    """TAO's route for the DBSCAN step only (decode is shared), as a yardstick."""
    from sklearn.cluster import DBSCAN

    for c in range(len(CLASSES)):
        boxes, covs = class_candidates(cov[0], bbox[0], c, 0.005, INPUT_HW, SCALE, OFFSET)
        if len(covs):
            DBSCAN(eps=0.3, min_samples=1, metric="precomputed").fit(1.0 - iou_matrix(boxes), sample_weight=covs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nms-confidence-threshold", type=float, default=0.1,
                        help="0.1 is what TAO inference uses when the spec leaves it unset")
    parser.add_argument("--sklearn", action="store_true", help="also time sklearn's DBSCAN on the same inputs")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    frames = [tuple(a[None] for a in synthetic_frame(rng)) for _ in range(args.frames)]
    candidates = [sum(len(class_candidates(c[0], b[0], k, 0.005, INPUT_HW)[1]) for k in range(len(CLASSES)))
                  for c, b in frames]
    print(f"{args.frames} frames, 3 classes, grid {GRID_HW[0]}x{GRID_HW[1]}, input {INPUT_HW[0]}x{INPUT_HW[1]}; "
          f"candidates per frame (cov > 0.005): median {statistics.median(candidates):.0f}, max {max(candidates)}")
    for algorithm in ("DBSCAN", "NMS", "HYBRID"):
        params = _params(algorithm, args.nms_confidence_threshold)

        def run(cov: np.ndarray, bbox: np.ndarray, params: dict = params) -> list:
            return postprocess(cov, bbox, CLASSES, params, INPUT_HW, SCALE, OFFSET, image_sizes=[(1920, 1080)])

        run(*frames[0])
        found = statistics.median(len(run(*f)[0]) for f in frames)
        print(f"{algorithm:7s}: {_median_ms(run, frames):6.2f} ms/frame (median), {found:.0f} detections/frame")
    if args.sklearn:
        print(f"sklearn DBSCAN step alone (TAO's way): {_median_ms(_sklearn_dbscan, frames):6.2f} ms/frame")


if __name__ == "__main__":
    main()
