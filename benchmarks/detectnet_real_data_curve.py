"""Where a real-data run went: the validation scores of the weights it saved every `checkpoint_interval`
epochs (the EMA weights where the spec keeps them), each with the final model's tuned post-processing.

Usage: python benchmarks/detectnet_real_data_curve.py --run bench_real/epochs_100 [--cache DIR]
(after `python benchmarks/detectnet_real_data.py --epochs 100 --out bench_real`)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from detectnet_real_data import coco_scores, read_kitti_detections, run_folder_and_validation


def main() -> None:
    run, val = run_folder_and_validation(__doc__.splitlines()[0])
    final = torch.load(run / "train" / "weights" / "model.pth", weights_only=True, map_location="cpu")
    tao = Path(sys.executable).parent / "tao"
    print(f"{'epoch':>5} {'AP50':>6} {'AP50-95':>8} {'AP75':>6} {'recall50':>9}")
    for checkpoint in sorted((run / "train" / "checkpoints").glob("epoch_*.pth")):
        saved = torch.load(checkpoint, weights_only=True, map_location="cpu")
        weights = (saved.get("weight_average") or {}).get("model") or saved["model"]
        with tempfile.TemporaryDirectory() as tmp:
            model = Path(tmp) / "model.pth"
            torch.save({**final, "state_dict": weights}, model)
            subprocess.run([str(tao), "detectnet", "inference", "-e", str(run / "tuned" / "inference_spec.txt"),
                            "-m", str(model), "-i", str(run.parent / "data" / "val" / "image_2"),
                            "-o", str(Path(tmp) / "out")], check=True, capture_output=True)
            scores = coco_scores(val, read_kitti_detections(Path(tmp) / "out" / "labels"))
        print(f"{saved['epoch']:5d} {scores['AP50']:6.3f} {scores['AP50_95']:8.3f} {scores['AP75']:6.3f} "
              f"{scores['recall50']:9.3f}")


if __name__ == "__main__":
    main()
