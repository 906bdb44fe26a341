"""Helpers the classification tests import by name: the demo spec and overrides for a tiny dataset."""

from __future__ import annotations

from pathlib import Path

from taokit_testing import REPO

DEMO_SPEC = REPO / "specs" / "classification" / "demo.txt"
DIGITS_SPEC = REPO / "specs" / "classification" / "digits.txt"


def tiny_overrides(data: Path, **extra: object) -> list[str]:
    """Point the demo spec (tf1 format) at a tiny ImageFolder and make the run take seconds."""
    base = {
        "train_config.train_dataset_path": data / "train",
        "train_config.val_dataset_path": data / "val",
        "eval_config.eval_dataset_path": data / "test",
        "model_config.input_image_size": '"3,32,32"',
        "train_config.n_epochs": 1,
        "train_config.batch_size_per_gpu": 8,
        "train_config.n_workers": 0,
        "eval_config.n_workers": 0,
    }
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]
