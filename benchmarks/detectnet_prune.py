"""Prune -> retrain on the demo data, measured in one run: mAP of the unpruned and retrained models, and
FP32 ONNX Runtime throughput of both.

Starts from the demo detector that `make demo` trains (with TAO's L1 regulariser), prunes it with
`tao detectnet prune -pth PTH`, retrains it with specs/detectnet/retrain.txt, evaluates both with
`tao detectnet evaluate` on the demo validation fold, exports both to ONNX and times them.

Usage: python benchmarks/detectnet_prune.py [--pth 0.9] [--epochs 6] [--runs 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from taokit.actions import evaluate, export, prune, train
from taokit.optimize.prune import PruneRules
from taokit.requests import Session
from taokit.runtime.ort_backend import OrtBackend
from taokit.runtime.timing import time_backend

REPO = Path(__file__).resolve().parents[1]
SPEC, RETRAIN = REPO / "specs" / "detectnet" / "train.txt", REPO / "specs" / "detectnet" / "retrain.txt"
DEMO_MODEL = REPO / "demo_out" / "train" / "weights" / "demo_detector.pth"


def _map(model: Path) -> float:
    return evaluate.run("detectnet", SPEC, model, Session(results_dir=None)).data["metrics"]["mAP"]


def _speed(model: Path, runs: int, batch: int) -> float:
    onnx_path = model.with_suffix(".onnx")
    export.run("detectnet", model, onnx_path, export.ExportOptions(force=True), Session(results_dir=None), spec=SPEC)
    backend = OrtBackend(onnx_path, "cpu")
    x = np.random.default_rng(0).random((batch, *backend.io.input_chw), dtype=np.float32)
    return time_backend(backend, x, runs=runs, warmup=2).images_per_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pth", type=float, default=0.9)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    if not DEMO_MODEL.exists():
        sys.exit(f"{DEMO_MODEL} not found: run `make demo` first")
    work = Path(tempfile.mkdtemp(prefix="taokit-prune-"))
    base = work / "unpruned.pth"
    base.write_bytes(DEMO_MODEL.read_bytes())
    pruned = work / "pruned.pth"
    report = prune.run("detectnet", base, pruned, prune.PruneOptions(PruneRules(threshold=args.pth)), Session(results_dir=work))
    overrides = [f"model_config.pretrained_model_file={pruned}", f"training_config.num_epochs={args.epochs}",
                 f"training_config.checkpoint_interval={args.epochs}"]
    train.run("detectnet", RETRAIN, Session(results_dir=work / "retrain", overrides=overrides), model_name="retrained")
    retrained = work / "retrain" / "weights" / "retrained.pth"
    maps = {name: _map(path) for name, path in (("unpruned", base), ("pruned, not retrained", pruned),
                                                 ("retrained", retrained))}
    speeds = {"unpruned": _speed(base, args.runs, args.batch), "retrained": _speed(retrained, args.runs, args.batch)}
    print(f"prune -pth {args.pth} (union): parameters {report.data['param_count_before']} -> "
          f"{report.data['param_count']} (pruning_ratio {report.data['pruning_ratio']:.3f}), FLOPs "
          f"{report.data['flops'] / report.data['flops_before']:.3f}x; retrained {args.epochs} epochs")
    for name, value in maps.items():
        print(f"mAP {name:22s}: {value:.4f}")
    print(f"mAP change after retraining: {(maps['retrained'] - maps['unpruned']) * 100:+.2f} points")
    print(f"ONNX Runtime FP32, batch {args.batch}: unpruned {speeds['unpruned']:.2f} images/s, pruned "
          f"{speeds['retrained']:.2f} images/s ({speeds['retrained'] / speeds['unpruned']:.2f}x)")


if __name__ == "__main__":
    main()
