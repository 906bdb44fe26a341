"""Throughput of `tao detectnet inference` (decode, resize, model, clustering, labels and overlays)
against the bare model forward on the same images, already decoded and batched, in one run.

Usage: python benchmarks/detectnet_inference.py [--images 256] [--batch 8] [--model weights.pth]
Without --model a freshly initialised network of the demo spec is used (speed does not depend on
the weights, only the clustering work does; pass a trained model for realistic clustering).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from taokit.data.image_io import read_rgb
from taokit.engine.checkpoint import save_file
from taokit.requests import InferenceRequest
from taokit.tasks.detectnet.demo_data import generate
from taokit.tasks.detectnet.inference import run_inference
from taokit.tasks.detectnet.model import DetectNetV2
from taokit.tasks.detectnet.network import arch_from_spec, load_model, model_payload
from taokit.tasks.detectnet.spec import DetectNetInferenceSpec
from taokit.tasks.registry import get_task

SPEC = Path(__file__).resolve().parents[1] / "specs" / "detectnet" / "train.txt"


def bare_forward(model: torch.nn.Module, images: list[Path], batch: int, repeats: int) -> float:
    tensors = np.stack([read_rgb(p).transpose(2, 0, 1) for p in images]).astype(np.float32) / 255.0
    x = torch.from_numpy(tensors)
    model = model.eval().to(memory_format=torch.channels_last)  # as the torch backend runs it
    best = 0.0
    with torch.inference_mode():
        model(x[:batch])
        for _ in range(repeats):
            start = time.perf_counter()
            for i in range(0, len(x), batch):
                model(x[i : i + batch])
            best = max(best, len(x) / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="taokit-infer-bench-"))
    generate(work / "data", 0, num_test_images=args.images, seed=2)
    images = sorted((work / "data" / "testing" / "image_2").iterdir())
    spec = get_task("detectnet").load_spec(SPEC, "experiment", [])
    model_path = args.model
    if model_path is None:
        torch.manual_seed(0)
        model_path = work / "model.pth"
        save_file(model_path, model_payload(DetectNetV2(arch_from_spec(spec))), kind="model")
    model, _ = load_model(model_path)
    bare = bare_forward(model, images, args.batch, args.repeats)
    rates = {}
    h, w = spec.input_hw
    for mode, overlay in (("labels only", False), ("labels + overlays", True)):
        run_spec = DetectNetInferenceSpec.model_validate({
            "inferencer_config": {"target_classes": spec.class_names, "image_height": h, "image_width": w,
                                  "batch_size": args.batch},
            "bbox_handler_config": {"disable_overlay": not overlay}})
        best = 0.0
        for i in range(args.repeats):
            result = run_inference(run_spec, InferenceRequest(
                model_path, results_dir=work / f"out-{overlay}-{i}", batch_size=args.batch, device="cpu",
                inputs=str(work / "data" / "testing" / "image_2")))
            best = max(best, result.data["images_per_s"])
        rates[mode] = best
    w, h = read_rgb(images[0]).shape[1], read_rgb(images[0]).shape[0]
    print(f"{args.images} PNG images at {w}x{h}, batch {args.batch}, {torch.get_num_threads()} threads "
          f"(best of {args.repeats})")
    print(f"bare model forward              : {bare:6.2f} images/s")
    for mode, rate in rates.items():
        print(f"taokit inference, {mode:17s}: {rate:6.2f} images/s  ({rate / bare:.3f}x)")


if __name__ == "__main__":
    main()
