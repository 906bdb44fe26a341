"""TAO's pruning arithmetic: normalisation, equalisation, threshold, minimum filters, granularity."""

from __future__ import annotations

import numpy as np
import pytest

from taokit.errors import UsageError
from taokit.optimize.prune import PruneRules, merge, normalize, retained


def test_retained_count_rules() -> None:
    stat = np.linspace(0.0, 1.0, 40)  # 0.0 .. 1.0
    rules = PruneRules(threshold=0.5, granularity=8, min_filters=4)
    kept = retained(stat, rules)
    assert len(kept) == 24  # 20 above 0.5, rounded UP to a multiple of 8
    assert list(kept) == sorted(kept) and set(range(20, 40)) <= set(kept)
    assert len(retained(stat, PruneRules(threshold=2.0, granularity=8, min_filters=12))) == 16  # min, rounded up
    assert len(retained(stat, PruneRules(threshold=2.0, granularity=8, min_filters=100))) == 40  # clamped
    assert len(retained(np.ones(10), PruneRules(threshold=0.1, granularity=8, min_filters=16))) == 10


def test_normalizers_and_criteria() -> None:
    stat = np.array([1.0, 2.0, 4.0])
    assert normalize(stat, "max").tolist() == [0.25, 0.5, 1.0]
    assert normalize(stat, "L2") == pytest.approx(stat / np.sqrt(21) * 3)
    a, b = np.array([0.2, 0.9]), np.array([0.8, 0.1])
    assert merge([a, b], "union").tolist() == [0.8, 0.9]
    assert merge([a, b], "intersection").tolist() == [0.2, 0.1]
    assert merge([a, b], "arithmetic_mean") == pytest.approx([0.5, 0.5])
    assert merge([a, b], "geometric_mean") == pytest.approx([0.4, 0.3])


def test_unknown_options_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="-eq"):
        PruneRules(equalization="median")
    with pytest.raises(UsageError, match="-n"):
        PruneRules(normalizer="l1")
