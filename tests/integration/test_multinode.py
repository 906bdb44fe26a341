"""Several machines with torchrun, simulated on localhost with gloo: two nodes train like one process with
the same global batch, and an elastic job restarts a killed worker, which resumes from its checkpoint."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from classification_testing import DEMO_SPEC as CLASSIFICATION_SPEC
from classification_testing import tiny_overrides as classification_overrides
from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides

pytestmark = pytest.mark.slow
# Without batch norm the arithmetic is the same (sharded batches, averaged gradients); what is left is
# float summation order. (With batch norm each rank normalises its own share of the batch, as in any DDP
# job without SyncBatchNorm, and the runs drift apart.) DetectNet runs without spatial augmentation: its
# draws are keyed by (seed, epoch, index) and identical on every rank (test_train_dataset.py), but warped
# images with black borders leave some units with gradients near zero, whose float-order noise Adam turns
# into full-size steps (measured: 1e-6 apart without warps, 5e-2 with TAO's zoom and translation).
TOLERANCE = 1e-4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    return dict(os.environ, TAOKIT_PLAIN="1", OMP_NUM_THREADS="1")


def _detectnet(out: Path, data: Path, batch: int, *extra: str, epochs: int = 2) -> list[str]:
    return [sys.executable, "-m", "taokit", "detectnet", "train", "-e", str(DEMO_TRAIN_SPEC), "-r", str(out),
            "--enable_determinism", *extra,
            *tiny_train_overrides(data, **{"training_config.num_epochs": epochs,
                                           "training_config.batch_size_per_gpu": batch,
                                           "model_config.use_batch_norm": "false", **NO_WARPS})]


NO_WARPS = {f"augmentation_config.spatial_augmentation.{key}": value for key, value in (
    ("hflip_probability", 0), ("zoom_min", 1.0), ("zoom_max", 1.0), ("translate_max_x", 0), ("translate_max_y", 0))}


def _classification(out: Path, data: Path, batch: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "taokit", "classification", "train", "-e", str(CLASSIFICATION_SPEC), "-r",
            str(out), "--enable_determinism", *extra,
            *classification_overrides(data, **{"train_config.n_epochs": 2, "train_config.batch_size_per_gpu": batch,
                                               "model_config.use_batch_norm": "false"})]


def _two_nodes(command: object, out: Path, data: Path, batch: int) -> None:
    port = str(_free_port())
    procs = [subprocess.Popen(command(out, data, batch, "--num_nodes", "2", "--node_rank", str(rank),  # type: ignore[operator]
                                      "--master_port", port), env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for rank in (0, 1)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]


def _relative_difference(a_path: Path, b_path: Path) -> float:
    a = torch.load(a_path, weights_only=True)["state_dict"]
    b = torch.load(b_path, weights_only=True)["state_dict"]
    assert a.keys() == b.keys()
    return max(float((a[k] - b[k]).norm() / (a[k].norm() + 1e-12)) for k in a if a[k].is_floating_point())


@pytest.mark.parametrize("task", ["detectnet", "classification"])
def test_two_nodes_train_like_one_process_with_the_global_batch(task: str, tiny_kitti: Path, tiny_imagefolder: Path,
                                                                tmp_path: Path) -> None:
    command, data, batch = ((_detectnet, tiny_kitti, 2) if task == "detectnet" else
                            (_classification, tiny_imagefolder, 4))
    one = subprocess.run(command(tmp_path / "one", data, 2 * batch), env=_env(), capture_output=True, text=True)
    assert one.returncode == 0, one.stderr[-3000:]
    _two_nodes(command, tmp_path / "two", data, batch)
    difference = _relative_difference(tmp_path / "one" / "weights" / "model.pth",
                                      tmp_path / "two" / "weights" / "model.pth")
    assert difference < TOLERANCE, difference


def _worker_pids(launcher: int, out: Path) -> list[int]:
    """The training workers of one job: `-m taokit ... -r out` processes other than the launcher and torchrun."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == launcher:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"taokit" in argv and str(out).encode() in argv and b"torch.distributed.run" not in argv:
            pids.append(int(entry.name))
    return pids


def test_an_elastic_job_restarts_a_killed_worker_which_resumes(tiny_kitti: Path, tmp_path: Path) -> None:
    out = tmp_path / "elastic"
    command = _detectnet(out, tiny_kitti, 4, "--rdzv_endpoint", f"127.0.0.1:{_free_port()}", "--max_restarts", "1",
                         epochs=20)
    job = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    second = out / "checkpoints" / "epoch_002.pth"
    deadline = time.monotonic() + 300
    while not second.exists() and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = _worker_pids(job.pid, out)
    assert workers and not (out / "weights" / "model.pth").exists(), "the job ended before a worker was killed"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    output = job.communicate(timeout=600)[0]
    assert job.returncode == 0, output[-3000:]
    assert "resuming from" in output
    assert torch.load(out / "weights" / "model.pth", weights_only=True)["epoch"] == 20
