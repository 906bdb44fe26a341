"""Real-world accidents, injected: a truncated image, results dirs that cannot be made or written, a full
disk, two runs in one folder, Ctrl-C, and keys that must not leak. One line each, nothing lost."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides

pytestmark = pytest.mark.slow


def _train(out: Path, data: Path, *extra: str, epochs: int = 1) -> list[str]:
    return [sys.executable, "-m", "taokit", "detectnet", "train", "-e", str(DEMO_TRAIN_SPEC), "-r", str(out), *extra,
            *tiny_train_overrides(data, **{"training_config.num_epochs": epochs})]


def _env(**extra: str) -> dict[str, str]:
    return dict(os.environ, TAOKIT_PLAIN="1", OMP_NUM_THREADS="1", **extra)


def test_a_truncated_image_is_skipped_in_training_and_fatal_under_strict(tiny_kitti: Path, tmp_path: Path,
                                                                         cli) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny_kitti, data)
    image = data / "training" / "image_2" / "000005.png"
    image.write_bytes(image.read_bytes()[: len(image.read_bytes()) // 2])  # a valid header, half the pixels
    ok = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "a", *tiny_train_overrides(data))
    assert ok.exit_code == 0, ok.output
    assert "skipped an unreadable image" in ok.stderr and "000005.png" in ok.stderr
    strict = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "b", "--strict",
                 *tiny_train_overrides(data))
    assert strict.exit_code == 2 and "000005.png" in strict.stderr.strip().splitlines()[-1]
    assert "Traceback" not in strict.output


def test_results_dirs_that_cannot_be_made_or_written(tiny_kitti: Path, tmp_path: Path, cli) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for target in (blocker / "results", Path("/proc/taokit/results")):
        result = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", target, *tiny_train_overrides(tiny_kitti))
        assert result.exit_code == 2, result.output
        line = result.stderr.strip().splitlines()[-1]
        assert line.startswith("error: ") and str(target.parent) in line and "Traceback" not in result.output


def test_outputs_have_the_usual_file_mode(tiny_detector: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    for name in ("experiment.yaml", "status.json", "weights/tiny.pth"):
        assert (tiny_detector / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_a_full_disk_is_one_line_and_the_last_checkpoint_survives(tiny_kitti: Path, tmp_path: Path) -> None:
    disk = tmp_path / "small"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        out = disk / "run"
        result = subprocess.run(_train(out, tiny_kitti, epochs=3), env=_env(), capture_output=True, text=True)
        assert result.returncode == 2, result.stderr[-2000:]
        line = result.stderr.strip().splitlines()[-1]
        assert "no space left on the device" in line and "Traceback" not in result.stderr
        for checkpoint in (out / "checkpoints").glob("epoch_*.pth"):  # what was written is whole
            import torch

            torch.load(checkpoint, weights_only=True)
        assert not list((out / "checkpoints").glob(".*.tmp")) if (out / "checkpoints").exists() else True
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_two_runs_in_one_results_dir_and_ctrl_c(tiny_kitti: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = subprocess.Popen(_train(out, tiny_kitti, epochs=400), env=_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600  # a watchdog for a hang, not a speed limit
    while not (out / "checkpoints" / "epoch_001.pth").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    # Frozen while the second run tries the folder: otherwise, on a machine where that start-up is slow, the
    # first run's tiny epochs would write a 60 MB checkpoint each (it once filled CI's disk) or even finish.
    first.send_signal(signal.SIGSTOP)
    try:
        second = subprocess.run(_train(out, tiny_kitti), env=_env(), capture_output=True, text=True)
    finally:
        first.send_signal(signal.SIGINT)  # pending until it runs again: Ctrl-C is the first thing it sees
        first.send_signal(signal.SIGCONT)
    assert second.returncode == 2
    assert f"{out} is in use by another taokit run (pid {first.pid})" in second.stderr
    assert first.wait(timeout=600) == 130
    last = json.loads((out / "status.json").read_text().splitlines()[-1])
    assert last["status"] == "FAILURE" and "interrupted" in last["message"]
    resumed = subprocess.run(_train(out, tiny_kitti, epochs=2), env=_env(), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]  # the lock died with the first run


def test_keys_and_secret_variables_never_reach_outputs(tiny_kitti: Path, tmp_path: Path) -> None:
    """-k keys and secret-looking variables, through train, prune and export: no output file (logs,
    status.json, experiment.yaml, TensorBoard events, models, ONNX) holds them."""
    out = tmp_path / "run"
    key, token = "tlt_encode_S3CRET", "hf_T0KEN_value"
    env = _env(MY_API_KEY=token, HF_TOKEN=token, WANDB_API_KEY=token)
    runs = [
        _train(out, tiny_kitti, "-k", key, "--log_file", str(tmp_path / "run.log")),
        [sys.executable, "-m", "taokit", "detectnet", "prune", "-m", str(out / "weights" / "model.pth"),
         "-o", str(tmp_path / "pruned.pth"), "-pth", "0.1", "-k", key],
        [sys.executable, "-m", "taokit", "detectnet", "export", "-m", str(out / "weights" / "model.pth"),
         "-o", str(tmp_path / "model.onnx"), "-k", key],
    ]
    texts = []
    for command in runs:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
        texts += [result.stdout, result.stderr]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".onnx" for p in files) and any(p.name == "experiment.yaml" for p in files)
    texts += [p.read_bytes().decode("latin-1") for p in files]
    for secret in (key, token):
        assert not any(secret in t for t in texts), secret
