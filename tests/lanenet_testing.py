"""Helpers the lanenet tests import by name: the demo spec and overrides for a tiny dataset."""

from __future__ import annotations

from pathlib import Path

from taokit_testing import REPO

DEMO_SPEC = REPO / "specs" / "lanenet" / "train.txt"


def tiny_overrides(data: Path, **extra: object) -> list[str]:
    """Point the demo spec at a tiny generated dataset and make a run take seconds."""
    base = {
        "dataset_config.data_sources[0].image_directory_path": data / "images",
        "dataset_config.data_sources[0].label_directory_path": data / "train_labels",
        "dataset_config.validation_data_sources[0].image_directory_path": data / "images",
        "dataset_config.validation_data_sources[0].label_directory_path": data / "val_labels",
        "model_config.input_image_width": 128,
        "model_config.input_image_height": 64,
        "augmentation_config.output_width": 128,
        "augmentation_config.output_height": 64,
        "train_config.epochs": 1,
        "train_config.batch_size": 4,
        "train_config.n_workers": 0,
        "train_config.validation_period": 1,
        "train_config.checkpoint_interval": 1,
    }
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]
