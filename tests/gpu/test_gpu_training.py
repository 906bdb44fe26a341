"""Real-GPU checks (skipped without CUDA): mixed-precision training and GPU inference."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_amp_training_and_gpu_evaluation(tiny_kitti: Path, tmp_path: Path, cli) -> None:
    result = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path, "--use_amp", "--gpu_index", "0",
                 *tiny_train_overrides(tiny_kitti))
    assert result.exit_code == 0, result.output
    evaluated = cli("detectnet", "evaluate", "-e", DEMO_TRAIN_SPEC, "-m", tmp_path / "weights" / "model.pth",
                    "--device", "cuda", *tiny_train_overrides(tiny_kitti))
    assert evaluated.exit_code == 0, evaluated.output
