"""DetectNet_v2 cost function (tao.md §3.4): weighted BCE coverage, coverage-weighted L1 bbox, autoweighting."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from taokit.engine.distributed import all_reduce_sum

_EPS = 1e-5


@dataclass(frozen=True)
class ClassCost:
    """Per target class: class_weight, coverage_foreground_weight and the two objectives' weights."""

    class_weight: float
    foreground_weight: float
    cov_initial: float
    bbox_initial: float
    cov_target: float
    bbox_target: float


def _anchored_areas(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Intersection, union, enclosing-box and target areas of boxes given as distances (left, top, right,
    bottom) from the same cell centre, (..., 4, H, W) -> four (..., H, W)."""
    p, t = pred.clamp(min=0), target
    width = torch.minimum(p[..., 0, :, :], t[..., 0, :, :]) + torch.minimum(p[..., 2, :, :], t[..., 2, :, :])
    height = torch.minimum(p[..., 1, :, :], t[..., 1, :, :]) + torch.minimum(p[..., 3, :, :], t[..., 3, :, :])
    inter = width.clamp(min=0) * height.clamp(min=0)
    area_p = (p[..., 0, :, :] + p[..., 2, :, :]) * (p[..., 1, :, :] + p[..., 3, :, :])
    area_t = (t[..., 0, :, :] + t[..., 2, :, :]) * (t[..., 1, :, :] + t[..., 3, :, :])
    enclose = ((torch.maximum(p[..., 0, :, :], t[..., 0, :, :]) + torch.maximum(p[..., 2, :, :], t[..., 2, :, :]))
               * (torch.maximum(p[..., 1, :, :], t[..., 1, :, :]) + torch.maximum(p[..., 3, :, :], t[..., 3, :, :])))
    return inter, area_p + area_t - inter, enclose, area_t


def anchored_iou(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """IoU of boxes given as distances (left, top, right, bottom) from the same cell centre, (..., 4, H, W)
    -> (..., H, W); 0 where the target has no box. Distances in any common unit."""
    inter, union, _, area_t = _anchored_areas(pred, target)
    return torch.where(area_t > 0, inter / union.clamp(min=_EPS), torch.zeros_like(inter))


def anchored_giou(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Generalised IoU (Rezatofighi et al. 2019: IoU minus the share of the enclosing box neither box
    covers, in [-1, 1]) of boxes given as in `anchored_iou`; 0 where the target has no box."""
    inter, union, enclose, area_t = _anchored_areas(pred, target)
    union, enclose = union.clamp(min=_EPS), enclose.clamp(min=_EPS)
    giou = inter / union - (enclose - union) / enclose
    return torch.where(area_t > 0, giou, torch.zeros_like(inter))


def distribution_focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """GFL's DFL (Li et al. 2020): cross-entropy of each edge's distribution with the two bins around its
    target distance, weighted by nearness, so that the mass gathers there. logits (..., 4, bins, H, W),
    target (..., 4, H, W) in bins -> mean over the 4 edges (..., H, W). Targets past the last bin count as
    just inside it, as YOLOv8 does."""
    bins = logits.shape[-3]
    t = target.clamp(0.0, bins - 1 - 0.01)
    left = t.floor().long()
    w_right = t - left
    log_p = torch.log_softmax(logits, dim=-3)
    at_left = log_p.gather(-3, left.unsqueeze(-3)).squeeze(-3)
    at_right = log_p.gather(-3, (left + 1).unsqueeze(-3)).squeeze(-3)
    return -((1.0 - w_right) * at_left + w_right * at_right).mean(dim=-3)


class DetectNetCost:
    """Sum over classes and objectives of mean cost x normalised class weight x objective weight.

    Objective weights start at initial_weight / sum(initial_weights) per class. With autoweighting,
    `end_epoch()` moves them to weight_target / (that objective's summed minibatch costs), normalised
    per class and clamped to [min_weight, max_weight].
    """

    def __init__(self, classes: list[ClassCost], autoweighting: bool = False,
                 min_weight: float = 1e-4, max_weight: float = 0.9999, iou_aware: bool = False,
                 giou_weight: float = 0.0, focal_gamma: float = 0.0, dfl_weight: float = 0.0,
                 bins_per_unit: float = 1.0) -> None:
        self.classes = classes
        self.giou_weight = giou_weight
        self.dfl_weight, self.bins_per_unit = dfl_weight, bins_per_unit
        self.focal_gamma = focal_gamma
        self.autoweighting = autoweighting
        self.iou_aware = iou_aware
        self.min_weight, self.max_weight = min_weight, max_weight
        total = sum(c.class_weight for c in classes) or 1.0
        self.class_weights = [c.class_weight / total for c in classes]
        self.objective_weights = [self._normalise(c.cov_initial, c.bbox_initial) for c in classes]
        self._fg = torch.tensor([c.foreground_weight for c in classes])
        self._epoch_costs: torch.Tensor | None = None  # (C, 2) running sums, kept on the device

    @staticmethod
    def _normalise(cov: float, bbox: float) -> tuple[float, float]:
        s = cov + bbox
        return (cov / s, bbox / s) if s > 0 else (0.5, 0.5)

    def __call__(self, cov_pred: torch.Tensor, bbox_pred: torch.Tensor, cov_t: torch.Tensor,
                 bbox_t: torch.Tensor, cov_norm_t: torch.Tensor, mask: torch.Tensor | None = None,
                 bbox_logits: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Predictions (N,C,H,W)/(N,4C,H,W); targets (N,C,H,W)/(N,C,4,H,W)/(N,C,H,W); `mask` (N,C,2,H,W)
        weighs each cell's coverage and bbox cost (loss_mask_label_filter); `bbox_logits` (N,4C,bins,H,W)
        are a distribution head's edge logits, for the DFL term. Returns (loss, logs)."""
        cov_pred = cov_pred.float()
        n, c, h, w = cov_pred.shape
        bbox_pred = bbox_pred.float().view(n, c, 4, h, w)
        fg = self._fg.to(cov_pred.device).view(1, c, 1, 1)
        weight = torch.where(cov_t > 0.5, fg, 1.0 - fg)  # foreground as drawn, before any IoU scaling
        if self.iou_aware:
            cov_t = cov_t * anchored_iou(bbox_pred.detach(), bbox_t)
        bce = -(cov_t * torch.log(cov_pred + _EPS) + (1.0 - cov_t) * torch.log(1.0 - cov_pred + _EPS))
        if self.focal_gamma:  # quality focal loss (Li et al. 2020): cells already near their target weigh less
            bce = bce * (cov_pred - cov_t).abs().pow(self.focal_gamma)
        bbox_weight = cov_norm_t
        if mask is not None:
            weight, bbox_weight = weight * mask[:, :, 0], bbox_weight * mask[:, :, 1]
        cov_cost = (weight * bce).mean(dim=(0, 2, 3))  # (C,)
        bbox_cost = ((bbox_pred - bbox_t).abs() * bbox_weight.unsqueeze(2)).mean(dim=(0, 2, 3, 4))  # (C,)
        if self.giou_weight:  # L1 treats the four edges apart; (1 - GIoU) scores the box as a whole
            giou_cost = ((1.0 - anchored_giou(bbox_pred, bbox_t)) * bbox_weight).mean(dim=(0, 2, 3))
            bbox_cost = bbox_cost + self.giou_weight * giou_cost
        if self.dfl_weight and bbox_logits is not None:
            dfl = distribution_focal_loss(bbox_logits.float().view(n, c, 4, -1, h, w), bbox_t * self.bins_per_unit)
            bbox_cost = bbox_cost + self.dfl_weight * (dfl * bbox_weight).mean(dim=(0, 2, 3))
        costs = torch.stack([cov_cost, bbox_cost], dim=1)  # (C, 2)
        weights = torch.tensor(self.objective_weights, device=costs.device)
        class_w = torch.tensor(self.class_weights, device=costs.device)
        total = (class_w * (weights * costs).sum(dim=1)).sum()
        if self.autoweighting:
            detached = costs.detach()
            self._epoch_costs = detached if self._epoch_costs is None else self._epoch_costs + detached
        return total, {"cost/cov": cov_cost.detach().mean(), "cost/bbox": bbox_cost.detach().mean()}

    def end_epoch(self) -> None:
        """Autoweighting step (no-op when disabled or when no costs were seen)."""
        if not self.autoweighting or self._epoch_costs is None:
            return
        sums = all_reduce_sum(self._epoch_costs.clone()).cpu().tolist()  # same weights on every rank
        for i, cls in enumerate(self.classes):
            cov_sum, bbox_sum = sums[i]
            if cov_sum <= 0 or bbox_sum <= 0:
                continue
            w_cov, w_bbox = self._normalise(cls.cov_target / cov_sum, cls.bbox_target / bbox_sum)
            self.objective_weights[i] = (min(max(w_cov, self.min_weight), self.max_weight),
                                         min(max(w_bbox, self.min_weight), self.max_weight))
        self._epoch_costs = None

    def state_dict(self) -> dict[str, list[list[float]]]:
        return {"objective_weights": [list(w) for w in self.objective_weights]}

    def load_state_dict(self, state: dict[str, list[list[float]]]) -> None:
        self.objective_weights = [(float(a), float(b)) for a, b in state["objective_weights"]]
