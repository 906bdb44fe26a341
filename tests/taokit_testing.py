"""Helpers the tests import by name (conftest.py only holds fixtures): paths, the CLI runner, spec overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# TAO-format spec files of the project's own; NVIDIA's tutorial specs are read in addition where ../shared
# (or $TAOKIT_SHARED) exists - a user's clone has none.
OWN_TAO_SPECS = REPO / "tests" / "fixtures" / "tao_specs"
SHARED = Path(os.environ.get("TAOKIT_SHARED", REPO.parent / "shared"))
NVIDIA_TAO_SPECS = SHARED / "fixtures" / "tao_specs"
DEMO_TRAIN_SPEC = REPO / "specs" / "detectnet" / "train.txt"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def tao_spec_folders() -> list[Path]:
    """Our own TAO spec fixtures, then NVIDIA's where present (for tests that loop instead of parametrize)."""
    return [OWN_TAO_SPECS, *([NVIDIA_TAO_SPECS] if NVIDIA_TAO_SPECS.is_dir() else [])]


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first occurrence of `text` in `path` (error messages name it)."""
    content = path.read_text(encoding="utf-8")
    assert text in content, f"{text!r} not in {path}"
    return content[: content.index(text)].count("\n") + 1


def run_cli(*args: str | Path) -> CliResult:
    """Run the real `tao` command in-process, as a user would type it."""
    from typer.testing import CliRunner

    from taokit.cli.grammar import expand_multi_value_flags
    from taokit.cli.main import build_app

    argv = expand_multi_value_flags([str(a) for a in args])
    result = CliRunner().invoke(build_app(argv), argv, catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)

def tiny_train_overrides(data: Path, **extra: object) -> list[str]:
    """Overrides that point the demo spec at a tiny dataset read straight from its label folder."""
    base = {
        "dataset_config.data_sources[0].tfrecords_path": "''",
        "dataset_config.data_sources[0].image_directory_path": data / "training" / "image_2",
        "dataset_config.data_sources[0].label_directory_path": data / "training" / "label_2",
        "dataset_config.validation_data_source": "{image_directory_path: " + str(data / "training" / "image_2") +
        ", label_directory_path: " + str(data / "training" / "label_2") + "}",
        "dataset_config.validation_fold": "null",
        "augmentation_config.preprocessing.output_image_width": 96,
        "augmentation_config.preprocessing.output_image_height": 64,
        "model_config.num_layers": 10,
        "training_config.num_epochs": 1,
        "training_config.batch_size_per_gpu": 4,
        "training_config.n_workers": 0,
        "training_config.checkpoint_interval": 1,
        "evaluation_config.first_validation_epoch": 1,
        "evaluation_config.validation_period_during_training": 1,
    }
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


def train_tiny_detector(out: Path, data: Path, name: str, **extra: object) -> Path:
    """`tao detectnet train` of the demo spec on a tiny dataset into `out`/train, as `name`.pth; returns `out`."""
    result = run_cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", out / "train", "-n", name,
                     *tiny_train_overrides(data, **extra))
    assert result.exit_code == 0, result.output
    return out
