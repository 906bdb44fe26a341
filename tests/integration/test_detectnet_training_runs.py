"""Training runs as processes: resume after a crash is bit-identical; --gpus 2 runs DDP (gloo on a CPU)."""

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

from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides

pytestmark = pytest.mark.slow


def _command(out: Path, data: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "taokit", "detectnet", "train", "-e", str(DEMO_TRAIN_SPEC), "-r", str(out),
            "--enable_determinism", *extra,
            *tiny_train_overrides(data, **{"training_config.num_epochs": 6})]


def _env() -> dict[str, str]:
    return dict(os.environ, TAOKIT_PLAIN="1", OMP_NUM_THREADS="1")


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["state_dict"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_with_ddp(tiny_kitti: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    log = tmp_path / "ddp.log"
    command = _command(out, tiny_kitti, "--gpus", "2", "--master_port", str(_free_port()), "--log_file", str(log))
    result = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "epoch 6/6" in log.read_text()  # the children's output reaches the parent's --log_file
    assert (out / "weights" / "model.pth").exists()
    status = (out / "status.json").read_text().splitlines()
    assert len(status) == 1 + 6 + 1  # one writer (rank 0): STARTED, 6 epochs, SUCCESS


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sigkill_at_a_random_point_then_rerun_ends_with_the_same_weights(seed: int, tiny_kitti: Path,
                                                                          tmp_path: Path) -> None:
    """Killed right after the first checkpoint (seed 0) or after a seeded random delay: during a step, a
    checkpoint write or a validation; the rerun resumes and must end exactly where an uninterrupted run ends."""
    import random

    straight, crashed = tmp_path / "straight", tmp_path / "crashed"
    subprocess.run(_command(straight, tiny_kitti), env=_env(), check=True, capture_output=True)
    proc = subprocess.Popen(_command(crashed, tiny_kitti), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    first = crashed / "checkpoints" / "epoch_001.pth"
    deadline = time.monotonic() + 300
    while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(random.Random(seed).uniform(0.0, 1.5) if seed else 0.0)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the run finished before it could be interrupted"
    assert not (crashed / "weights" / "model.pth").exists()
    # An interrupted atomic write may leave a temp file, never a half-written checkpoint.
    for checkpoint in (crashed / "checkpoints").glob("*.pth"):
        torch.load(checkpoint, map_location="cpu", weights_only=False)
    resumed = subprocess.run(_command(crashed, tiny_kitti), env=_env(), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming from" in resumed.stderr
    a, b = _weights(straight / "weights" / "model.pth"), _weights(crashed / "weights" / "model.pth")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
