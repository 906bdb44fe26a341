"""FP32 vs INT8 on ONNX Runtime (CPU), measured in one run, the way a user would do it:

1. speed: DetectNet_v2 resnet18 at 544x960 (PeopleNet's input size), exported with `tao detectnet export`
   (FP32, and INT8 calibrated on real images), timed with the same ONNX Runtime settings;
2. accuracy: the demo model (`make demo`) exported FP32 and INT8, both evaluated with
   `tao detectnet evaluate` on the demo validation fold.

Usage: python benchmarks/detectnet_int8.py [--runs 10] [--batch 1] [--threads 2]
Needs `make demo` to have run (for the trained demo model and its data).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from taokit.actions import evaluate, export
from taokit.engine.checkpoint import save_file
from taokit.requests import Session
from taokit.runtime.ort_backend import OrtBackend
from taokit.runtime.timing import time_backend
from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2
from taokit.tasks.detectnet.network import model_payload

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "specs" / "detectnet" / "train.txt"
DEMO_MODEL = REPO / "demo_out" / "train" / "weights" / "demo_detector.pth"


def _export(model: Path, out: Path, spec: Path | None, cal_dir: Path | None) -> None:
    options = export.ExportOptions(data_type="int8", cal_image_dir=cal_dir, cal_batches=4, cal_batch_size=8,
                                   force=True)
    export.run("detectnet", model, out, options, Session(results_dir=None), spec=spec)


def speed(work: Path, runs: int, batch: int, threads: int) -> tuple[float, float]:
    torch.manual_seed(0)
    model = work / "resnet18_544x960.pth"
    arch = DetectNetArch("resnet", 18, ("person", "bag", "face"), (544, 960))
    save_file(model, model_payload(DetectNetV2(arch)), kind="model")
    _export(model, work / "resnet18.onnx", None, REPO / "demo_out" / "data" / "training" / "image_2")
    x = np.random.default_rng(0).random((batch, 3, 544, 960), dtype=np.float32)
    rates = []
    for path in (work / "resnet18.onnx", work / "resnet18_int8.onnx"):
        backend = OrtBackend(path, "cpu", threads=threads)
        rates.append(time_backend(backend, x, runs=runs, warmup=2).images_per_s)
    return rates[0], rates[1]


def accuracy(work: Path) -> tuple[float, float]:
    _export(DEMO_MODEL, work / "demo.onnx", SPEC, None)
    maps = []
    for path in (work / "demo.onnx", work / "demo_int8.onnx"):
        result = evaluate.run("detectnet", SPEC, path, Session(results_dir=None))
        maps.append(result.data["metrics"]["mAP"])
    return maps[0], maps[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not DEMO_MODEL.exists():
        sys.exit(f"{DEMO_MODEL} not found: run `make demo` first")
    work = Path(tempfile.mkdtemp(prefix="taokit-int8-"))
    fp32_rate, int8_rate = speed(work, args.runs, args.batch, args.threads)
    fp32_map, int8_map = accuracy(work)
    flags = Path("/proc/cpuinfo").read_text().split("flags")[1].split("\n")[0] if Path("/proc/cpuinfo").exists() else ""
    isa = "VNNI" if "vnni" in flags else ("AVX-512" if "avx512f" in flags else "AVX2")
    print(f"ONNX Runtime CPU, {args.threads} threads, batch {args.batch}, best integer ISA: {isa}")
    print(f"resnet18 544x960  FP32 : {fp32_rate:6.2f} images/s")
    print(f"resnet18 544x960  INT8 : {int8_rate:6.2f} images/s  ({int8_rate / fp32_rate:.2f}x)")
    print(f"demo model mAP    FP32 : {fp32_map:.4f}")
    print(f"demo model mAP    INT8 : {int8_map:.4f}  ({(int8_map - fp32_map) * 100:+.2f} points)")


if __name__ == "__main__":
    main()
