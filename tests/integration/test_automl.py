"""AutoML from the CLI on generated data with a tiny budget: Bayesian and Hyperband, a failing trial
survived, resume, and a best model whose evaluation gives the recorded metric."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from classification_testing import DEMO_SPEC, tiny_overrides
from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides

pytestmark = pytest.mark.slow


def _rows(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((out / "automl_results.csv").open()))


def test_bayesian_search_survives_a_failing_trial_resumes_and_reproduces_its_best(
        tiny_imagefolder: Path, tmp_path: Path, cli) -> None:
    out = tmp_path / "automl"
    # trial 0 will find a corrupt checkpoint in its folder: its training fails, the search goes on
    (out / "experiment_000" / "checkpoints").mkdir(parents=True)
    (out / "experiment_000" / "checkpoints" / "epoch_001.pth").write_bytes(b"not a checkpoint")
    overrides = tiny_overrides(tiny_imagefolder)
    result = cli("classification", "automl", "-e", DEMO_SPEC, "-r", out, "--automl_max_recommendations", "3",
                 "--automl_remove_hyperparameters", "train_config.reg_config.weight_decay", *overrides)
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    assert [r["state"] for r in rows] == ["FAIL", "COMPLETE", "COMPLETE"]
    assert "trial 0 failed (exit 2)" in result.stderr
    metadata = json.loads((out / "automl_metadata.json").read_text())
    assert metadata["trials_done"] == 3 and metadata["best_trial"] in (1, 2)
    assert (out / "metric_per_trial.png").read_bytes()[:4] == b"\x89PNG"

    resumed = cli("classification", "automl", "-e", DEMO_SPEC, "-r", out, "--automl_max_recommendations", "4",
                  "--automl_remove_hyperparameters", "train_config.reg_config.weight_decay", *overrides)
    assert resumed.exit_code == 0, resumed.output
    assert "resuming the search" in resumed.stderr and len(_rows(out)) == 4

    best = json.loads((out / "automl_metadata.json").read_text())
    spec = out / "best_model" / "spec.yaml"
    weights = out / "best_model" / "weights" / "model.pth"
    assert spec.is_file() and torch.load(weights, weights_only=True)["task"] == "classification"
    evaluated = cli("classification", "evaluate", "-e", spec, "-m", weights, "-i", tiny_imagefolder / "val",
                    "-r", tmp_path / "eval")
    assert evaluated.exit_code == 0, evaluated.output
    accuracy = json.loads((tmp_path / "eval" / "metrics.json").read_text())["accuracy"]
    assert accuracy == pytest.approx(best["best_val_accuracy"])


def test_hyperband_prunes_by_epoch_and_ends_with_a_postprocessing_search(tiny_kitti: Path, tmp_path: Path,
                                                                         cli) -> None:
    out = tmp_path / "hyperband"
    result = cli("detectnet", "automl", "-e", DEMO_TRAIN_SPEC, "-r", out, "--automl_algorithm", "hyperband",
                 "--automl_R", "3", "--automl_nu", "3", "--automl_remove_hyperparameters",
                 "training_config.regularizer.type", *tiny_train_overrides(tiny_kitti))
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    assert len(rows) == 3 and {r["state"] for r in rows} <= {"COMPLETE", "PRUNED"}
    assert all(1 <= int(r["epochs"] or 0) <= 3 for r in rows if r["state"] == "COMPLETE")
    status = [json.loads(line) for line in (out / "experiment_000" / "status.json").read_text().splitlines()]
    assert sum(1 for e in status if "mAP" in (e.get("kpi") or {})) >= 1  # validated every epoch for the pruner
    assert (out / "best_model" / "postprocess" / "spec.txt").is_file()
    bad = cli("detectnet", "automl", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "bad", "--automl_add_hyperparameters",
              "training_config.batch_size_per_gpu:int:8", *tiny_train_overrides(tiny_kitti))
    assert bad.exit_code == 2 and "LOW and HIGH must be numbers" in bad.stderr


def test_ctrl_c_stops_the_search_cleanly_and_a_rerun_redoes_the_interrupted_trial(tiny_imagefolder: Path,
                                                                                   tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "automl"
    command = [sys.executable, "-m", "taokit", "classification", "automl", "-e", str(DEMO_SPEC), "-r", str(out),
               "--automl_max_recommendations", "2", *tiny_overrides(tiny_imagefolder)]
    env = dict(os.environ, TAOKIT_PLAIN="1", OMP_NUM_THREADS="1")
    # its own process group, signalled as a whole: what Ctrl-C on a terminal does to the search and its trial
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    running = out / "experiment_001" / "command.txt"
    deadline = time.monotonic() + 300
    while not running.exists() and proc.poll() is None and time.monotonic() < deadline:  # a watchdog, not a limit
        time.sleep(0.1)
    assert proc.poll() is None, proc.communicate()[1][-2000:]
    assert running.exists(), "the second trial did not start"
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 130, stderr[-2000:]
    assert stderr.strip().splitlines()[-1].startswith("error: interrupted") and "Traceback" not in stderr
    deadline = time.monotonic() + 600  # the trial may take a moment to exit on a slow machine: wait, then judge
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break  # no trial left running behind the search
        time.sleep(0.1)
    else:
        pytest.fail("a trial of the interrupted search was still running 10 minutes later")

    resumed = subprocess.run(command, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "1 trial(s) already done" in resumed.stderr
    states = [r["state"] for r in _rows(out)]
    assert states == ["COMPLETE", "INTERRUPTED", "COMPLETE"]
    assert (out / "best_model" / "weights" / "model.pth").is_file()
