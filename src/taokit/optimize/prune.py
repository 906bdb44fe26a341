"""TAO's structured channel pruning ("min weight", tao.md §4.5) on torch-pruning's dependency graph.

Per group of coupled layers (residual adds, batch norms, consumers), each conv/linear member scores its
output filters by L2 norm, normalised per layer (`max` or `L2`); the members' scores are merged by the
equalization criterion (union = max, intersection = min, arithmetic or geometric mean); filters scoring
above the threshold are kept, at least `min_filters`, rounded *up* to a multiple of the granularity.
torch-pruning finds the groups and removes the channels; the decisions are TAO's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from taokit.errors import UsageError

CRITERIA = ("union", "intersection", "arithmetic_mean", "geometric_mean")
NORMALIZERS = ("max", "L2")


@dataclass(frozen=True)
class PruneRules:
    threshold: float = 0.1
    equalization: str = "union"
    granularity: int = 8
    min_filters: int = 16
    normalizer: str = "max"

    def __post_init__(self) -> None:
        if self.equalization not in CRITERIA:
            raise UsageError(f"-eq {self.equalization}: choose one of {', '.join(CRITERIA)}")
        if self.normalizer not in NORMALIZERS:
            raise UsageError(f"-n {self.normalizer}: choose max or L2")


@dataclass
class PruneReport:
    params_before: int
    params_after: int
    flops_before: int
    flops_after: int
    layers: list[tuple[str, int, int]] = field(default_factory=list)  # (name, kept, total) per conv/linear

    @property
    def pruning_ratio(self) -> float:
        """TAO's definition: pruned parameters / original parameters."""
        return self.params_after / max(self.params_before, 1)


def filter_norms(module: nn.Module) -> np.ndarray:
    """L2 norm of every output filter's weights (bias ignored, as TAO does)."""
    weight = module.weight.detach().float()
    return weight.flatten(1).norm(dim=1).cpu().numpy()


def normalize(stat: np.ndarray, normalizer: str) -> np.ndarray:
    if normalizer == "max":
        return stat / max(float(stat.max()), 1e-12)
    return stat / max(float(np.sqrt((stat**2).sum())), 1e-12) * len(stat)


def merge(stats: list[np.ndarray], criterion: str) -> np.ndarray:
    stacked = np.stack(stats)
    if criterion == "union":
        return stacked.max(0)
    if criterion == "intersection":
        return stacked.min(0)
    if criterion == "arithmetic_mean":
        return stacked.mean(0)
    return np.exp(np.log(np.maximum(stacked, 1e-12)).mean(0))


def retained(stat: np.ndarray, rules: PruneRules) -> np.ndarray:
    """Sorted positions to keep: above threshold, >= min filters, rounded up to the granularity."""
    total = len(stat)
    n = int((stat > rules.threshold).sum())
    n = max(n, min(rules.min_filters, total))
    n = min(int(math.ceil(n / rules.granularity) * rules.granularity), total)
    return np.sort(np.argsort(-stat, kind="stable")[:n])


def _group_plan(group: object, rules: PruneRules) -> list[int]:
    """Root indices to remove from one dependency group (empty when everything is kept)."""
    items = list(group)  # type: ignore[call-overload]
    root_idxs = list(items[0].idxs)
    stats = []
    for item in items:
        module = item.dep.target.module
        if isinstance(module, (nn.Conv2d, nn.Linear)) and "out_channels" in getattr(item.dep.handler, "__name__", ""):
            if len(item.idxs) == len(root_idxs):
                stats.append(normalize(filter_norms(module)[list(item.idxs)], rules.normalizer))
    if not stats:
        return []
    keep = set(retained(merge(stats, rules.equalization), rules).tolist())
    return [root_idxs[p] for p in range(len(root_idxs)) if p not in keep]


def _count(model: nn.Module, example: torch.Tensor) -> tuple[int, int]:
    import torch_pruning as tp

    flops, params = tp.utils.count_ops_and_params(model, example)
    return int(flops), int(params)


def prune_model(model: nn.Module, example: torch.Tensor, protected: list[nn.Module], rules: PruneRules) -> PruneReport:
    """Prune `model` in place. `protected` modules keep their output channels (heads, -el layers)."""
    import torch_pruning as tp

    model.eval()
    shapes = {n: m.weight.shape[0] for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}
    flops_before, params_before = _count(model, example)
    graph = tp.DependencyGraph().build_dependency(model, example_inputs=example)
    groups = list(graph.get_all_groups(ignored_layers=protected, root_module_types=[nn.Conv2d, nn.Linear]))
    plans = [(group, _group_plan(group, rules)) for group in groups]  # decide everything, then cut
    for group, idxs in plans:
        if idxs:
            group.prune(idxs=idxs)
    flops_after, params_after = _count(model, example)
    layers = [(n, m.weight.shape[0], shapes[n]) for n, m in model.named_modules()
              if isinstance(m, (nn.Conv2d, nn.Linear)) and n in shapes]
    return PruneReport(params_before, params_after, flops_before, flops_after, layers)
