"""ONNX Runtime against OpenVINO on the CPU, on the files `tao detectnet export` writes, measured in one run.

DetectNet_v2 resnet18 at 544x960 (PeopleNet's input size), exported FP32 and INT8 (QDQ, calibrated on the
demo images when `make demo` has run, else on random images), each timed on both runtimes with the same
thread count, plus ONNX Runtime without thread spinning (its one setting not already at its best by default: the
graph optimisation level is ORT_ENABLE_ALL, NCHWc layout included).
Prints the CPU's instruction sets: a ratio measured on one CPU says little about another.

Usage: python benchmarks/cpu_runtimes.py [--runs 10] [--threads 2]   (needs the openvino extra)
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from taokit.actions import export
from taokit.engine.checkpoint import save_file
from taokit.requests import Session
from taokit.runtime.inventory import cpu_isa, onnxruntime_info, openvino_info
from taokit.runtime.timing import time_backend
from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2
from taokit.tasks.detectnet.network import model_payload

REPO = Path(__file__).resolve().parents[1]
DEMO_IMAGES = REPO / "demo_out" / "data" / "training" / "image_2"


def _float_stem(fp32: Path, images: Path, work: Path) -> Path:
    """The INT8 file with the 3-channel 7x7 stem left in float (it has too few channels to gain from INT8)."""
    import shutil

    from taokit.optimize.calibration_batches import ImageBatches
    from taokit.optimize.int8 import quantize
    from taokit.tasks.detectnet.export import calibration_source
    from taokit.tasks.detectnet.model import INPUT_NAME

    copy = work / "stem" / "resnet18.onnx"
    copy.parent.mkdir()
    shutil.copy(fp32, copy)
    source = calibration_source(None, (3, 544, 960))
    batches = ImageBatches(sorted(images.iterdir())[:16], source.preprocess, 4)
    return quantize(copy, batches, INPUT_NAME, keep_float=["/backbone/conv1/Conv"], with_ranges=False).cpu_onnx


def _files(work: Path) -> tuple[Path, Path, Path]:
    torch.manual_seed(0)
    model = work / "resnet18_544x960.pth"
    save_file(model, model_payload(DetectNetV2(DetectNetArch("resnet", 18, ("person", "bag", "face"), (544, 960)))),
              kind="model")
    images = DEMO_IMAGES if DEMO_IMAGES.is_dir() else None
    if images is None:
        from PIL import Image

        images = work / "cal"
        images.mkdir()
        rng = np.random.default_rng(0)
        for i in range(16):
            Image.fromarray(rng.integers(0, 255, (544, 960, 3), dtype=np.uint8)).save(images / f"{i}.png")
    options = export.ExportOptions(data_type="int8", cal_image_dir=images, cal_batches=4, cal_batch_size=4, force=True)
    export.run("detectnet", model, work / "resnet18.onnx", options, Session(results_dir=None))
    return work / "resnet18.onnx", work / "resnet18_int8.onnx", images


def _ort(path: Path, threads: int, **config: str) -> object:
    """ONNX Runtime as taokit opens it; extra session config entries give a variant (one session either way)."""
    if not config:
        from taokit.runtime.ort_backend import OrtBackend

        return OrtBackend(path, "cpu", threads=threads)
    import onnxruntime as ort

    from taokit.runtime.base import ModelIO

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    for key, value in config.items():
        options.add_session_config_entry(key, value)
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    class Variant:
        name = "onnxruntime"
        io = ModelIO(session.get_inputs()[0].name, tuple(o.name for o in session.get_outputs()), (3, 544, 960), None, {})

        def infer(self, batch: np.ndarray) -> list[np.ndarray]:
            return list(session.run(None, {self.io.input_name: batch}))

        def close(self) -> None:
            pass

    return Variant()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    torch.set_num_threads(args.threads)
    from taokit.runtime.openvino_backend import OpenVinoBackend

    print(f"CPU: {', '.join(cpu_isa()) or 'no AVX2/AVX-512'}; onnxruntime {onnxruntime_info().get('version')}, "
          f"openvino {openvino_info().get('version')}; {args.threads} threads, batch 1, 3x544x960")
    x = np.random.default_rng(0).random((1, 3, 544, 960), dtype=np.float32)
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8, images = _files(Path(tmp))
        stem = _float_stem(fp32, images, Path(tmp))
        for precision, path in (("FP32", fp32), ("INT8", int8), ("INT8, float stem", stem)):
            runtimes = {
                "onnxruntime": _ort(path, args.threads),
                "onnxruntime, no spinning": _ort(path, args.threads, **{"session.intra_op.allow_spinning": "0"}),
                "openvino": OpenVinoBackend(path, "cpu", threads=args.threads),
            }
            if "BF16" in openvino_info().get("capabilities", []):  # what OpenVINO picks by itself on such CPUs
                os.environ["TAOKIT_OPENVINO_PRECISION"] = "bf16"
                runtimes["openvino, bf16 (opt-in)"] = OpenVinoBackend(path, "cpu", threads=args.threads)
                del os.environ["TAOKIT_OPENVINO_PRECISION"]
            for name, backend in runtimes.items():
                rows.setdefault(name, {})[precision] = time_backend(backend, x, runs=args.runs,
                                                                    warmup=2).images_per_s  # type: ignore[arg-type]
                backend.close()  # type: ignore[attr-defined]
    print(f"{'runtime':28} {'FP32 img/s':>11} {'INT8 img/s':>11} {'INT8/FP32':>10} {'float stem':>11} {'ratio':>7}")
    for name, rate in rows.items():
        stem_rate = rate["INT8, float stem"]
        print(f"{name:28} {rate['FP32']:11.2f} {rate['INT8']:11.2f} {rate['INT8'] / rate['FP32']:9.2f}x "
              f"{stem_rate:11.2f} {stem_rate / rate['FP32']:6.2f}x")
    ov, ort_ = rows["openvino"], rows["onnxruntime"]
    print(f"OpenVINO / ONNX Runtime: FP32 {ov['FP32'] / ort_['FP32']:.2f}x, INT8 {ov['INT8'] / ort_['INT8']:.2f}x")


if __name__ == "__main__":
    main()
