"""Real data, side by side: taokit's detectnet and Ultralytics YOLO11n on aerial tree crowns.

The imagery and hand-drawn boxes are the sample data inside the `deepforest` wheel on PyPI (fetched with
`pip download --no-deps deepforest==2.1.0` and cached; the wheel is only opened, never installed):
training tiles from 2019_YELL_2_528000_4978000_image_crop2 (574 trees; 42 tiles, 628 boxes once cut),
validation tiles from 2019_YELL_2_541000_4977000_image_crop (279 trees; 12 tiles, 384 boxes), 384x384,
written as KITTI (taokit) and YOLO labels.

Both models train from scratch on the same tiles for the same epochs and are scored by the same code:
pycocotools on the same ground truth, COCO AP50, AP50-95, AP75 and recall at IoU 0.5 (100 detections per
image). YOLO predicts at conf 0.001 with up to 300 boxes per image, from its last weights; taokit from its
last weights with the post-processing `tune_postprocess` picks on the training tiles (the validation tiles
are never used to choose anything, for either model). YOLO runs when `ultralytics` is installed (the
`bench` extra), offline (YOLO_OFFLINE=1, `yolo11n.yaml`, no download), twice: with Ultralytics' defaults
and with taokit's batch (8, an optimizer step per batch); the ratio is taken against the stronger one.

Usage: python benchmarks/detectnet_real_data.py [--epochs 40] [--out bench_real] [--spec SPEC] [--no-yolo]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WHEEL = ("deepforest", "2.1.0")
TRAIN_IMAGE = "2019_YELL_2_528000_4978000_image_crop2"
VAL_IMAGE = "2019_YELL_2_541000_4977000_image_crop"
TILE = 384
CLASS = "tree"
SPEC = HERE / "specs" / "detectnet_real_data.txt"
MIN_VISIBLE = 0.5  # a box cut by a tile edge is kept when at least half of it is inside


@dataclass
class Tile:
    name: str
    image: np.ndarray  # (TILE, TILE, 3) uint8
    boxes: np.ndarray  # (K, 4) x1 y1 x2 y2 in tile pixels


def tile_positions(length: int, tile: int) -> list[int]:
    """Origins of the fewest tiles that cover `length`, evenly spread: first at 0, last at length - tile."""
    if length <= tile:
        return [0]
    count = -(-length // tile)
    return [int(round(i * (length - tile) / (count - 1))) for i in range(count)]


def tile_image(name: str, image: np.ndarray, boxes: np.ndarray, tile: int = TILE,
               min_visible: float = MIN_VISIBLE) -> list[Tile]:
    """Cut an image into covering tiles; each keeps the boxes with at least `min_visible` of their area
    inside it, clipped to the tile (images smaller than a tile are padded with black)."""
    h, w = image.shape[:2]
    if h < tile or w < tile:
        padded = np.zeros((max(h, tile), max(w, tile), 3), image.dtype)
        padded[:h, :w] = image
        image, h, w = padded, padded.shape[0], padded.shape[1]
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    area = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)
    tiles = []
    for y0 in tile_positions(h, tile):
        for x0 in tile_positions(w, tile):
            clipped = np.clip(boxes - [x0, y0, x0, y0], 0, tile)
            inside = np.prod(np.clip(clipped[:, 2:] - clipped[:, :2], 0, None), axis=1)
            keep = (area > 0) & (inside >= min_visible * np.maximum(area, 1e-9))
            tiles.append(Tile(f"{name}_{y0:04d}_{x0:04d}", image[y0:y0 + tile, x0:x0 + tile].copy(), clipped[keep]))
    return tiles


def read_voc_boxes(xml: bytes) -> np.ndarray:
    """(K, 4) boxes of a Pascal VOC annotation."""
    root = ET.fromstring(xml)
    out = [[float(obj.find("bndbox").find(k).text) for k in ("xmin", "ymin", "xmax", "ymax")]
           for obj in root.iter("object")]
    return np.asarray(out, np.float64).reshape(-1, 4)


def fetch_wheel(cache: Path) -> Path:
    name, version = WHEEL
    found = sorted(cache.glob(f"{name}-{version}-*.whl"))
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", f"{name}=={version}",
                    "--dest", str(cache)], check=True)
    return sorted(cache.glob(f"{name}-{version}-*.whl"))[0]


def load_tiles(wheel: Path, stem: str) -> list[Tile]:
    from io import BytesIO

    from PIL import Image

    with zipfile.ZipFile(wheel) as archive:
        image = np.asarray(Image.open(BytesIO(archive.read(f"deepforest/data/{stem}.png"))).convert("RGB"))
        boxes = read_voc_boxes(archive.read(f"deepforest/data/{stem}.xml"))
    return tile_image(stem, image, boxes)


def write_dataset(tiles: list[Tile], root: Path) -> None:
    """KITTI (image_2, label_2) and YOLO (labels/) labels of the same tiles."""
    from PIL import Image

    for sub in ("image_2", "label_2", "labels"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for t in tiles:
        Image.fromarray(t.image).save(root / "image_2" / f"{t.name}.png")
        (root / "label_2" / f"{t.name}.txt").write_text("".join(
            f"{CLASS} 0.00 0 0.00 {x1:.2f} {y1:.2f} {x2:.2f} {y2:.2f} 0.00 0.00 0.00 0.00 0.00 0.00 0.00\n"
            for x1, y1, x2, y2 in t.boxes))
        (root / "labels" / f"{t.name}.txt").write_text("".join(
            f"0 {(x1 + x2) / 2 / TILE:.6f} {(y1 + y2) / 2 / TILE:.6f} {(x2 - x1) / TILE:.6f} {(y2 - y1) / TILE:.6f}\n"
            for x1, y1, x2, y2 in t.boxes))


# ----- scoring: one code for both models


def coco_scores(tiles: list[Tile], detections: dict[str, list[tuple[float, float, float, float, float]]]
                ) -> dict[str, float]:
    """pycocotools on the tiles' ground truth: AP50-95, AP50, AP75, recall at IoU 0.5 (100 per image)."""
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images = [{"id": i, "file_name": t.name, "width": TILE, "height": TILE} for i, t in enumerate(tiles)]
    boxes = [(i, box) for i, t in enumerate(tiles) for box in t.boxes.tolist()]
    annotations = [{"id": k + 1, "image_id": i, "category_id": 1, "iscrowd": 0,  # ids unique and from 1
                    "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1)}
                   for k, (i, (x1, y1, x2, y2)) in enumerate(boxes)]
    results = [{"image_id": i, "category_id": 1, "bbox": [x1, y1, x2 - x1, y2 - y1], "score": s}
               for i, t in enumerate(tiles) for x1, y1, x2, y2, s in detections.get(t.name, [])]
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO()
        truth.dataset = {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": CLASS}]}
        truth.createIndex()
        if not results:
            return {"AP50": 0.0, "AP50_95": 0.0, "AP75": 0.0, "recall50": 0.0, "detections": 0}
        evaluation = COCOeval(truth, truth.loadRes(results), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    recall = evaluation.eval["recall"][0, 0, 0, -1]  # IoU 0.5, the one class, all areas, 100 detections
    return {"AP50": float(evaluation.stats[1]), "AP50_95": float(evaluation.stats[0]),
            "AP75": float(evaluation.stats[2]), "recall50": float(max(recall, 0.0)), "detections": len(results)}


# ----- taokit


def tao(*args: str | Path, log: Path) -> None:
    command = [str(Path(sys.executable).parent / "tao"), *map(str, args)]
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        subprocess.run(command, check=True, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "TAOKIT_PLAIN": "1"})


def run_taokit(data: Path, epochs: int, out: Path, spec: Path) -> tuple[dict, float, float]:
    log = out / "taokit.log"
    overrides = [f"dataset_config.data_sources[0].image_directory_path={data / 'train' / 'image_2'}",
                 f"dataset_config.data_sources[0].label_directory_path={data / 'train' / 'label_2'}",
                 f"training_config.num_epochs={epochs}"]
    start = time.perf_counter()
    tao("detectnet", "train", "-e", spec, "-r", out / "train", "-n", "model", *overrides, log=log)
    train_s = time.perf_counter() - start
    model = out / "train" / "weights" / "model.pth"
    train = data / "train"  # the post-processing is chosen on the training tiles, never on the validation ones
    tao("detectnet", "tune_postprocess", "-e", spec, "-m", model, "-r", out / "tuned", *overrides,
        "dataset_config.validation_data_source={image_directory_path: " + str(train / "image_2")
        + ", label_directory_path: " + str(train / "label_2") + "}", log=log)
    tao("detectnet", "inference", "-e", out / "tuned" / "inference_spec.txt", "-m", model,
        "-i", data / "val" / "image_2", "-o", out / "val_inference", log=log)
    # inference's own images/s (decode, network, clustering): the process start is not the model's speed
    rate = float(re.findall(r"image\(s\) in [\d.]+ s: ([\d.]+) images/s", log.read_text())[-1])
    return read_kitti_detections(out / "val_inference" / "labels"), train_s, rate


def run_folder_and_validation(description: str) -> tuple[Path, list[Tile]]:
    """The command line of the scripts that look into a finished run: --run (an epochs_N folder) and --cache;
    returns the folder and the validation tiles."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--run", type=Path, required=True, help="the benchmark's epochs_N folder")
    parser.add_argument("--cache", type=Path,
                        default=Path(os.environ.get("TAOKIT_HOME", Path.home() / ".cache" / "taokit")) / "bench")
    args = parser.parse_args()
    return args.run, load_tiles(fetch_wheel(args.cache), VAL_IMAGE)


def read_kitti_detections(folder: Path) -> dict[str, list[tuple[float, float, float, float, float]]]:
    """taokit's KITTI output per tile: (x1, y1, x2, y2, confidence)."""
    detections = {}
    for label in folder.glob("*.txt"):
        rows = [line.split() for line in label.read_text().splitlines() if line.strip()]
        detections[label.stem] = [(float(r[4]), float(r[5]), float(r[6]), float(r[7]), float(r[15])) for r in rows]
    return detections


# ----- Ultralytics


# Ultralytics' defaults (batch 16, gradients accumulated to a nominal batch of 64) make about one optimizer
# step per epoch on 42 tiles; the second setting takes taokit's (batch 8, a step per batch).
YOLO_SETTINGS = {"YOLO11n": {}, "YOLO11n, batch 8": {"batch": 8, "nbs": 8}}


def run_yolo(data: Path, epochs: int, out: Path, name: str = "yolo", **settings: int) -> tuple[dict, float, float]:
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(out / "yolo_config"))
    from ultralytics import YOLO

    for split in ("train", "val"):  # Ultralytics finds labels/ beside images/, from the files' real paths:
        images = data / split / "images"  # a folder of links to the files, not a link to the folder
        if images.is_symlink():
            images.unlink()
        images.mkdir(exist_ok=True)
        for source in (data / split / "image_2").iterdir():
            if not (images / source.name).exists():
                os.link(source, images / source.name)
    (out / "data.yaml").write_text(f"path: {data}\ntrain: train/images\nval: val/images\nnames: {{0: {CLASS}}}\n")
    model = YOLO("yolo11n.yaml")
    start = time.perf_counter()
    model.train(data=str(out / "data.yaml"), epochs=epochs, imgsz=TILE, device="cpu", workers=1, pretrained=False,
                plots=False, project=str(out.resolve()), name=name, exist_ok=True, seed=0, val=False, verbose=False,
                **settings)
    train_s = time.perf_counter() - start
    last = YOLO(str(out / name / "weights" / "last.pt"))
    images = sorted((data / "val" / "image_2").iterdir())
    last.predict(str(images[0]), imgsz=TILE, device="cpu", verbose=False)  # warm-up, as taokit's runner has
    start = time.perf_counter()
    detections = {}
    for path in images:
        result = last.predict(str(path), imgsz=TILE, conf=0.001, max_det=300, device="cpu", verbose=False)[0]
        boxes = result.boxes
        detections[path.stem] = [(*map(float, b), float(s)) for b, s in zip(boxes.xyxy.tolist(), boxes.conf.tolist(), strict=True)]
    rate = len(images) / (time.perf_counter() - start)
    return detections, train_s, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("bench_real"))
    parser.add_argument("--spec", type=Path, default=SPEC)
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("TAOKIT_HOME", Path.home() / ".cache" / "taokit")) / "bench")
    parser.add_argument("--no-yolo", action="store_true", help="taokit only")
    args = parser.parse_args()
    out = args.out / f"epochs_{args.epochs}"
    data = args.out / "data"
    wheel = fetch_wheel(args.cache)
    train, val = load_tiles(wheel, TRAIN_IMAGE), load_tiles(wheel, VAL_IMAGE)
    if not (data / "val" / "label_2").exists():
        write_dataset(train, data / "train")
        write_dataset(val, data / "val")
    print(f"tiles: {len(train)} training ({sum(len(t.boxes) for t in train)} trees), {len(val)} validation "
          f"({sum(len(t.boxes) for t in val)} trees), {TILE}x{TILE}")
    out.mkdir(parents=True, exist_ok=True)
    rows = {}
    detections, train_s, rate = run_taokit(data.resolve(), args.epochs, out, args.spec.resolve())
    rows["taokit detectnet"] = {**coco_scores(val, detections), "train_s": train_s, "images_per_s": rate}
    if not args.no_yolo:
        try:
            import ultralytics  # noqa: F401
        except ImportError:
            print("ultralytics is not installed (pip install 'taokit[bench]'): YOLO11n skipped")
        else:
            for k, (name, settings) in enumerate(YOLO_SETTINGS.items()):
                detections, train_s, rate = run_yolo(data.resolve(), args.epochs, out, f"yolo{k}", **settings)
                rows[name] = {**coco_scores(val, detections), "train_s": train_s, "images_per_s": rate}
    print(f"\n{args.epochs} epochs, scored by pycocotools on {len(val)} validation tiles:")
    print(f"{'model':18} {'AP50':>7} {'AP50-95':>8} {'AP75':>7} {'recall50':>9} {'dets':>6} {'train s':>8} {'img/s':>7}")
    for name, r in rows.items():
        print(f"{name:18} {r['AP50']:7.3f} {r['AP50_95']:8.3f} {r['AP75']:7.3f} {r['recall50']:9.3f} "
              f"{r['detections']:6d} {r['train_s']:8.0f} {r['images_per_s']:7.1f}")
    peers = {name: r for name, r in rows.items() if name.startswith("YOLO")}
    if peers:  # against the stronger setting of the peer
        name, b = max(peers.items(), key=lambda item: item[1]["AP50_95"])
        a = rows["taokit detectnet"]
        print(f"taokit / {name}: " + ", ".join(f"{k} {a[k] / b[k]:.2f}x" for k in ("AP50", "AP50_95", "AP75")
                                              if b[k] > 0))
    (out / "results.json").write_text(json.dumps({"epochs": args.epochs, "results": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
