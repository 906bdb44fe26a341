"""Results directories (resume only the same experiment) and model/checkpoint files (atomic, weights-only)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from taokit.engine.checkpoint import find_latest_checkpoint, load_file, save_file
from taokit.engine.run_dir import claim_results_dir
from taokit.errors import ModelError, ResultsDirError


def test_a_results_dir_resumes_only_its_own_experiment(tmp_path: Path) -> None:
    experiment = {"training": {"epochs": 5, "lr": 0.1}, "classes": ["a", "b"]}
    resumable = {"training": {"lr": 0.1}, "classes": ["a", "b"]}
    claim_results_dir(tmp_path, experiment, resumable, has_checkpoints=False, spec_record={"yaml": "x: 1"})
    record = yaml.safe_load((tmp_path / "experiment.yaml").read_text())
    assert record["experiment"] == experiment and record["spec"] == {"yaml": "x: 1"}
    # more epochs (not in `resumable`) resume; another learning rate or class list is refused
    claim_results_dir(tmp_path, {**experiment, "training": {"epochs": 9, "lr": 0.1}}, resumable, has_checkpoints=True)
    with pytest.raises(ResultsDirError, match=r"different experiment \(training\.lr: 0\.1 there, 0\.2 now\)"):
        claim_results_dir(tmp_path, experiment, {**resumable, "training": {"lr": 0.2}}, has_checkpoints=True)
    with pytest.raises(ResultsDirError, match=r"classes\[1\]: 'b' there, 'c' now"):
        claim_results_dir(tmp_path, experiment, {**resumable, "classes": ["a", "c"]}, has_checkpoints=True)
    # without checkpoints there is nothing to mix: a new experiment takes the directory
    claim_results_dir(tmp_path, experiment, {**resumable, "classes": ["a", "c"]}, has_checkpoints=False)


def test_model_files_are_atomic_and_weights_only(tmp_path: Path) -> None:
    path = tmp_path / "weights" / "m.pth"
    save_file(path, {"task": "detectnet", "state_dict": {"w": torch.ones(2)}}, kind="model")
    assert [p.name for p in path.parent.iterdir()] == ["m.pth"]  # no temporary file left behind
    data = load_file(path, task="detectnet")
    assert data["kind"] == "model" and torch.equal(data["state_dict"]["w"], torch.ones(2))
    with pytest.raises(ModelError, match="is a detectnet model, not a classification model"):
        load_file(path, task="classification")


def test_bad_model_files_give_one_line_errors(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"not a zip archive")
    with pytest.raises(ModelError, match="not a readable taokit model file"):
        load_file(corrupt)
    foreign = tmp_path / "foreign.pth"
    torch.save({"w": torch.ones(1)}, foreign)
    with pytest.raises(ModelError, match="no taokit header"):
        load_file(foreign)
    with pytest.raises(ModelError, match="model file not found"):
        load_file(tmp_path / "missing.pth")
    (tmp_path / "model.pth").write_bytes(b"")
    with pytest.raises(ModelError, match=r"taokit writes PyTorch models; use -m .*model\.pth"):
        load_file(tmp_path / "model.tlt")


def test_the_latest_checkpoint_is_the_highest_epoch(tmp_path: Path) -> None:
    assert find_latest_checkpoint(tmp_path / "none") is None
    for epoch in (9, 10, 2):
        save_file(tmp_path / f"epoch_{epoch:03d}.pth", {"epoch": epoch}, kind="checkpoint")
    (tmp_path / "epoch_notes.pth").write_text("ignored")
    assert find_latest_checkpoint(tmp_path) == tmp_path / "epoch_010.pth"
