"""LaneNet figures, each a ratio measured in one run on the outputs of `make demo-lanenet`:

- clustering ms per frame (mean-shift, DBSCAN) on the trained model's outputs for the validation images;
- `tao lanenet inference` images/s (decode, resize, forward, clustering, TuSimple/CULane files; with and
  without overlays) against the bare forward on the same images, already decoded, resized and batched;
- INT8 / FP32 on ONNX Runtime: speed, and the TuSimple accuracy change on the validation set.

Usage: make demo-lanenet && python benchmarks/lanenet.py [--run demo_out_lanenet] [--batch 8]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from taokit.actions import evaluate
from taokit.data.image_io import read_rgb, resize_image
from taokit.requests import InferenceRequest, Session
from taokit.runtime.ort_backend import OrtBackend
from taokit.runtime.timing import time_backend
from taokit.tasks.lanenet.inference import run_inference
from taokit.tasks.lanenet.network import load_model
from taokit.tasks.lanenet.postprocess import output_rows, predict_lanes
from taokit.tasks.lanenet.spec import LaneNetInferenceSpec
from taokit.tasks.registry import get_task

SPEC = Path(__file__).resolve().parents[1] / "specs" / "lanenet" / "train.txt"


def bare_forward(model: torch.nn.Module, batch: np.ndarray, size: int, repeats: int) -> float:
    x = torch.from_numpy(batch)
    model = model.eval().to(memory_format=torch.channels_last)  # as the torch backend runs it
    best = 0.0
    with torch.inference_mode():
        model(x[:size])
        for _ in range(repeats):
            start = time.perf_counter()
            for i in range(0, len(x), size):
                model(x[i : i + size])
            best = max(best, len(x) / (time.perf_counter() - start))
    return best


def clustering_ms(model: torch.nn.Module, batch: np.ndarray, image_hw: tuple[int, int], spec) -> dict[str, float]:  # noqa: ANN001
    with torch.inference_mode():
        logits, embedding = model(torch.from_numpy(batch))
        prob = torch.softmax(logits, 1)[:, 1].numpy()
    rows = output_rows(spec.postprocessing_config, image_hw[0])
    out = {}
    for algorithm in ("MEANSHIFT", "DBSCAN"):
        config = spec.postprocessing_config.model_copy(update={"clustering_algorithm": algorithm})
        start = time.perf_counter()
        for i in range(len(batch)):
            predict_lanes(prob[i], embedding[i].numpy(), image_hw, rows, config, spec.model_config_.anchor_stride)
        out[algorithm] = (time.perf_counter() - start) * 1000.0 / len(batch)
    return out


def pipeline_rate(model_path: Path, images: Path, batch: int, overlay: bool, repeats: int) -> float:
    spec = LaneNetInferenceSpec.model_validate({"inferencer_config": {"batch_size": batch},
                                                "output_config": {"overlay": overlay}})
    best = 0.0
    for i in range(repeats):
        with tempfile.TemporaryDirectory() as out:
            result = run_inference(spec, InferenceRequest(model_path, results_dir=Path(out) / str(i), device="cpu",
                                                          inputs=str(images)))
        best = max(best, result.data["images_per_s"])
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", type=Path, default=Path("demo_out_lanenet"))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    model_path, export = args.run / "train" / "weights" / "model.pth", args.run / "export"
    if not model_path.is_file() or not (export / "lanenet_int8.onnx").is_file():
        raise SystemExit(f"{args.run}: run `make demo-lanenet` first (it trains and exports the models measured)")
    spec = get_task("lanenet").load_spec(SPEC, "experiment", [])
    model, _ = load_model(model_path)
    val = [json.loads(line)["raw_file"] for line in
           (args.run / "data" / "val_labels" / "label_data_val.json").read_text().splitlines()]
    images = [args.run / "data" / "images" / name for name in val]
    start = time.perf_counter()
    decoded = [read_rgb(p) for p in images]
    decode_rate = len(images) / (time.perf_counter() - start)
    batch = np.stack([resize_image(im, spec.input_hw).transpose(2, 0, 1) for im in decoded]).astype(np.float32) / 255
    threads = torch.get_num_threads()
    print(f"{len(images)} validation images at {decoded[0].shape[1]}x{decoded[0].shape[0]}, network "
          f"{spec.input_hw[1]}x{spec.input_hw[0]}, batch {args.batch}, {threads} threads (best of {args.repeats})")
    for algorithm, ms in clustering_ms(model, batch, decoded[0].shape[:2], spec).items():
        print(f"clustering ({algorithm:9s}) + lane sampling : {ms:7.2f} ms per frame")
    bare = bare_forward(model, batch, args.batch, args.repeats)
    print(f"bare model forward                   : {bare:7.2f} images/s")
    print(f"JPEG decoding alone (one thread)     : {decode_rate:7.2f} images/s")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for p in images:
            (folder / p.name).symlink_to(p.resolve())
        for overlay in (False, True):
            rate = pipeline_rate(model_path, folder, args.batch, overlay, args.repeats)
            label = "with overlays" if overlay else "files only"
            print(f"tao lanenet inference, {label:13s} : {rate:7.2f} images/s  ({rate / bare:.3f}x the forward)")
    fp32, int8 = OrtBackend(export / "lanenet.onnx", "cpu"), OrtBackend(export / "lanenet_int8.onnx", "cpu")
    sample = batch[: args.batch]
    t32, t8 = time_backend(fp32, sample, 10, 3), time_backend(int8, sample, 10, 3)
    print(f"ONNX Runtime FP32 / INT8             : {t32.images_per_s:7.2f} / {t8.images_per_s:7.2f} images/s "
          f"({t8.images_per_s / t32.images_per_s:.2f}x)")
    accuracy = {}
    for name in ("lanenet.onnx", "lanenet_int8.onnx"):
        result = evaluate.run("lanenet", SPEC, export / name, Session())
        accuracy[name] = result.metrics["tusimple_accuracy"]
    print(f"TuSimple accuracy FP32 / INT8        : {accuracy['lanenet.onnx']:.4f} / "
          f"{accuracy['lanenet_int8.onnx']:.4f} ({accuracy['lanenet_int8.onnx'] - accuracy['lanenet.onnx']:+.4f})")


if __name__ == "__main__":
    main()
