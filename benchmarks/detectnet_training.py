"""Training throughput of `tao detectnet train` against a bare PyTorch loop over the same model and batches.

Both loops see the same DataLoader (same dataset, augmentation, rasterizer and sampler), the same
network, cost function and optimizer; the bare loop has no progress bar, schedule, regularizer,
logging or checkpoints. Images per second are taken per epoch, after one warm-up epoch, in one run.

Usage: python benchmarks/detectnet_training.py [--images 160] [--epochs 3] [--workdir /tmp/taokit-bench]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import torch

from taokit.engine.distributed import DistInfo
from taokit.engine.fit import FitOutputs, TrainEnv, fit
from taokit.tasks.detectnet.demo_data import generate
from taokit.tasks.registry import get_task

SPEC = Path(__file__).resolve().parents[1] / "specs" / "detectnet" / "train.txt"


def _spec(data: Path, epochs: int):  # noqa: ANN202
    overrides = [
        "dataset_config.data_sources[0].tfrecords_path=''",
        f"dataset_config.data_sources[0].image_directory_path={data}/training/image_2",
        f"dataset_config.data_sources[0].label_directory_path={data}/training/label_2",
        "dataset_config.validation_fold=null", f"training_config.num_epochs={epochs}",
        f"training_config.checkpoint_interval={epochs}",
    ]
    return get_task("detectnet").load_spec(SPEC, "experiment", overrides)


def taokit_rate(spec, out: Path) -> float:  # noqa: ANN001
    setup = get_task("detectnet").build_training(spec, TrainEnv(torch.device("cpu")))
    start = time.perf_counter()
    result = fit(setup.parts, setup.config, FitOutputs(out, "bench", DistInfo()), torch.device("cpu"))
    total = time.perf_counter() - start
    print(f"  taokit fit: {result.epochs_run} epochs in {total:.1f} s (checkpoint and weights included)")
    return _steady(out)


def _steady(out: Path) -> float:
    import json

    rates = [json.loads(line)["kpi"]["images_per_s"] for line in (out / "status.json").read_text().splitlines()
             if '"kpi"' in line]
    return sum(rates[1:]) / max(len(rates) - 1, 1)


def bare_rate(spec, epochs: int) -> float:  # noqa: ANN001
    torch.manual_seed(spec.random_seed)
    parts = get_task("detectnet").build_training(spec, TrainEnv(torch.device("cpu"))).parts
    model, optimizer = parts.model, parts.optimizer
    rates = []
    for epoch in range(1, epochs + 1):
        model.train()
        seen, start = 0, time.perf_counter()
        parts.loader.sampler.set_epoch(epoch)  # type: ignore[attr-defined]
        for batch in parts.loader:
            loss, _ = parts.compute_loss(model, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            seen += batch[0].shape[0]
        rates.append(seen / (time.perf_counter() - start))
    return sum(rates[1:]) / max(len(rates) - 1, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=160)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="taokit-bench-"))
    shutil.rmtree(work / "run", ignore_errors=True)
    if not (work / "data").exists():
        generate(work / "data", args.images, num_test_images=0, seed=1)
    spec = _spec(work / "data", args.epochs)
    print(f"DetectNet_v2 {spec.model_config_.arch}{spec.model_config_.num_layers} at "
          f"{spec.input_hw[1]}x{spec.input_hw[0]}, batch {spec.training_config.batch_size_per_gpu}, "
          f"{args.images} images, {torch.get_num_threads()} threads; steady-state epochs 2..{args.epochs}")
    bare = bare_rate(spec, args.epochs)
    ours = taokit_rate(spec, work / "run")
    print(f"bare PyTorch loop : {bare:6.2f} images/s")
    print(f"taokit fit loop   : {ours:6.2f} images/s")
    print(f"ratio             : {ours / bare:.3f}x")


if __name__ == "__main__":
    main()
