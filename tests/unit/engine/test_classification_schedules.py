"""TAO classification's learning-rate schedules (tf1 lr_config) and the PyTorch per-epoch policies."""

from __future__ import annotations

import math

import pytest

from taokit.engine.schedules import (
    ConstantLR,
    EpochDecay,
    SoftStartCosine,
    SoftStartDivider,
    StepDecay,
    TimeDecay,
)


def test_step_decays_continuously_every_step_fraction() -> None:
    s = StepDecay(0.01, 0.1, 0.1)  # TAO step_size 10 (%)
    assert s.lr(0, 10, 1000) == pytest.approx(0.01)
    assert s.lr(100, 10, 1000) == pytest.approx(0.001)
    assert s.lr(50, 10, 1000) == pytest.approx(0.01 * 0.1 ** 0.5)


def test_soft_anneal_ramps_then_divides_at_each_point() -> None:
    s = SoftStartDivider(0.1, 3e-4, 0.1, (0.3, 0.6), 10.0)
    assert s.lr(0, 10, 100) == pytest.approx(3e-4)
    assert s.lr(5, 10, 100) == pytest.approx((0.1 + 3e-4) / 2)
    assert s.lr(20, 10, 100) == pytest.approx(0.1)
    assert s.lr(31, 10, 100) == pytest.approx(0.01)
    assert s.lr(99, 10, 100) == pytest.approx(0.001)


def test_cosine_follows_tao() -> None:
    s = SoftStartCosine(0.1, 0.001, 0.0)
    assert s.lr(0, 10, 100) == pytest.approx(0.1)
    assert s.lr(50, 10, 100) == pytest.approx(0.001 + 0.099 / 2)
    assert s.lr(100, 10, 100) == pytest.approx(0.001)
    warm = SoftStartCosine(0.1, 0.0, 0.2)
    assert warm.lr(10, 10, 100) == pytest.approx(0.05)
    assert warm.lr(100, 10, 100) == pytest.approx(0.1 * (1 + math.cos(math.pi * 0.8)) / 2)  # TAO's unscaled phase


def test_epoch_policies_and_warmup() -> None:
    step = EpochDecay(1.0, "step", gamma=0.5, step_epochs=2)
    assert [step.lr(e * 10, 10, 100) for e in range(5)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    multi = EpochDecay(1.0, "multistep", gamma=0.1, milestones=(1, 3))
    assert [multi.lr(e * 10, 10, 100) for e in range(4)] == pytest.approx([1.0, 0.1, 0.1, 0.01])
    linear = EpochDecay(1.0, "linear", warmup_epochs=2)
    assert linear.lr(0, 10, 100) == pytest.approx(0.05) and linear.lr(19, 10, 100) == pytest.approx(1.0)
    assert linear.lr(60, 10, 100) == pytest.approx(0.5) and linear.lr(100, 10, 100) == pytest.approx(0.0)


def test_keras_time_decay_wraps_any_schedule() -> None:
    assert TimeDecay(ConstantLR(0.1), 0.01).lr(100, 10, 1000) == pytest.approx(0.05)
