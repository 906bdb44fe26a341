"""Boxes or their order: for each validation tree, the best IoU any detection of a model reaches, beside the
recall and AP the scorer gives (which keep the top 100 detections of a tile). A model that finds boxes for
as many trees as another but scores lower ranks them worse.

Usage: python benchmarks/detectnet_real_data_boxes.py --run bench_real/epochs_100 [--cache DIR]
(after `python benchmarks/detectnet_real_data.py --epochs 100 --out bench_real`; YOLO's weights are
rescored when the run has them)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from detectnet_real_data import TILE, coco_scores, read_kitti_detections, run_folder_and_validation

Detections = dict[str, list[tuple[float, float, float, float, float]]]


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1, y1 = np.maximum(a[:, None, 0], b[None, :, 0]), np.maximum(a[:, None, 1], b[None, :, 1])
    x2, y2 = np.minimum(a[:, None, 2], b[None, :, 2]), np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a, area_b = ((r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1]) for r in (a, b))
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def best_ious(tiles: list, detections: Detections) -> np.ndarray:
    best = []
    for tile in tiles:
        truth = np.asarray(tile.boxes, float).reshape(-1, 4)
        found = np.asarray([d[:4] for d in detections.get(tile.name, [])], float).reshape(-1, 4)
        best += list(iou_matrix(truth, found).max(1)) if len(found) else [0.0] * len(truth)
    return np.asarray(best)


def yolo_detections(weights: Path, images: Path) -> Detections:
    os.environ.setdefault("YOLO_OFFLINE", "1")
    from ultralytics import YOLO

    model, found = YOLO(str(weights)), {}
    for path in sorted(images.iterdir()):
        result = model.predict(str(path), imgsz=TILE, conf=0.001, max_det=300, device="cpu", verbose=False)[0]
        found[path.stem] = [(*map(float, b), float(s)) for b, s in
                            zip(result.boxes.xyxy.tolist(), result.boxes.conf.tolist(), strict=True)]
    return found


def main() -> None:
    run, val = run_folder_and_validation(__doc__.splitlines()[0])
    models = {"taokit detectnet": read_kitti_detections(run / "val_inference" / "labels")}
    for folder in sorted(run.glob("yolo*/weights/last.pt")):
        models[f"YOLO11n ({folder.parts[-3]})"] = yolo_detections(folder, run.parent / "data" / "val" / "image_2")
    print(f"{'model':22} {'IoU>=0.5':>9} {'IoU>=0.75':>10} {'recall50':>9} {'AP50':>6} {'boxes/tile':>11}")
    for name, detections in models.items():
        best, scores = best_ious(val, detections), coco_scores(val, detections)
        print(f"{name:22} {np.mean(best >= 0.5):9.3f} {np.mean(best >= 0.75):10.3f} {scores['recall50']:9.3f} "
              f"{scores['AP50']:6.3f} {scores['detections'] / len(val):11.0f}")


if __name__ == "__main__":
    main()
