"""TAO's learning-rate schedules."""

from __future__ import annotations

import math

import pytest

from taokit.engine.schedules import EarlyStoppingAnnealing, SoftStartAnnealing, soft_start_annealing


def test_soft_start_annealing_shape() -> None:
    lo, hi = 1e-6, 1e-3
    assert soft_start_annealing(0.0, lo, hi, 0.1, 0.7) == pytest.approx(lo)
    assert soft_start_annealing(0.05, lo, hi, 0.1, 0.7) == pytest.approx(math.sqrt(lo * hi))  # log-linear
    assert soft_start_annealing(0.4, lo, hi, 0.1, 0.7) == pytest.approx(hi)
    assert soft_start_annealing(0.85, lo, hi, 0.1, 0.7) == pytest.approx(math.sqrt(lo * hi))
    assert soft_start_annealing(1.0, lo, hi, 0.1, 0.7) == pytest.approx(lo)
    s = SoftStartAnnealing(lo, hi, 0.1, 0.7)
    assert s.lr(50, 10, 100) == pytest.approx(hi)


def test_early_stopping_anneals_then_stops() -> None:
    s = EarlyStoppingAnnealing(1e-5, 1e-3, soft_start_epochs=1, annealing_epochs=2, patience=2)
    assert s.lr(0, 10, 1000) == pytest.approx(1e-5)
    assert s.lr(20, 10, 1000) == pytest.approx(1e-3)
    for epoch, metric in [(1, 0.5), (2, 0.6), (3, 0.6), (4, 0.55)]:
        s.observe(epoch, metric)
    assert s.anneal_start_epoch == 4 and not s.stop_requested
    assert s.lr(50, 10, 1000) == pytest.approx(math.sqrt(1e-5 * 1e-3))  # halfway through annealing
    s.observe(5, 0.5)
    s.observe(6, 0.5)
    assert s.stop_requested
    restored = EarlyStoppingAnnealing(1e-5, 1e-3, 1, 2, 2)
    restored.load_state_dict(s.state_dict())
    assert restored.stop_requested and restored.anneal_start_epoch == 4
