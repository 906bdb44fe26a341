"""DetectNet_v2 cost: weighted BCE, coverage-weighted L1, class and objective weights, autoweighting."""

from __future__ import annotations

import math

import pytest
import torch

from taokit.tasks.detectnet.loss import (
    ClassCost,
    DetectNetCost,
    anchored_giou,
    anchored_iou,
    distribution_focal_loss,
)


def _cost(autoweighting: bool = False) -> DetectNetCost:
    return DetectNetCost([ClassCost(1.0, 0.05, 1.0, 10.0, 1.0, 10.0), ClassCost(3.0, 0.25, 1.0, 1.0, 2.0, 1.0)],
                         autoweighting=autoweighting, min_weight=1e-4, max_weight=0.9999)


def _batch(seed: int = 0):  # noqa: ANN202
    g = torch.Generator().manual_seed(seed)
    cov_t = (torch.rand(2, 2, 3, 4, generator=g) > 0.7).float() * torch.rand(2, 2, 3, 4, generator=g)
    bbox_t = torch.randn(2, 2, 4, 3, 4, generator=g)
    norm_t = cov_t * 0.1
    cov_p = torch.rand(2, 2, 3, 4, generator=g)
    bbox_p = torch.randn(2, 8, 3, 4, generator=g)
    return cov_p, bbox_p, cov_t, bbox_t, norm_t


def test_matches_the_formula_of_tao_md() -> None:
    cov_p, bbox_p, cov_t, bbox_t, norm_t = _batch()
    total, _ = _cost()(cov_p, bbox_p, cov_t, bbox_t, norm_t)
    expected = 0.0
    for c, (cw, fg, wc, wb) in enumerate([(0.25, 0.05, 1 / 11, 10 / 11), (0.75, 0.25, 0.5, 0.5)]):
        t, p = cov_t[:, c], cov_p[:, c]
        weight = torch.where(t > 0.5, torch.tensor(fg), torch.tensor(1 - fg))
        bce = -(t * torch.log(p + 1e-5) + (1 - t) * torch.log(1 - p + 1e-5))
        cov_cost = (weight * bce).mean()
        bbox_cost = ((bbox_p.view(2, 2, 4, 3, 4)[:, c] - bbox_t[:, c]).abs() * norm_t[:, c, None]).mean()
        expected += cw * (wc * cov_cost + wb * bbox_cost)
    assert float(total) == pytest.approx(float(expected), rel=1e-5)


def test_perfect_bbox_prediction_has_no_bbox_cost() -> None:
    cov_p, _, cov_t, bbox_t, norm_t = _batch()
    _, logs = _cost()(cov_p, bbox_t.reshape(2, 8, 3, 4), cov_t, bbox_t, norm_t)
    assert float(logs["cost/bbox"]) == 0.0


def test_autoweighting_moves_weights_to_targets_over_costs() -> None:
    cost = _cost(autoweighting=True)
    sums = torch.zeros(2, 2)
    for seed in range(3):
        batch = _batch(seed)
        cost(*batch)
        cov_p, bbox_p, cov_t, bbox_t, norm_t = batch
        for c in range(2):
            t, p = cov_t[:, c], cov_p[:, c]
            fg = [0.05, 0.25][c]
            weight = torch.where(t > 0.5, torch.tensor(fg), torch.tensor(1 - fg))
            sums[c, 0] += (weight * -(t * torch.log(p + 1e-5) + (1 - t) * torch.log(1 - p + 1e-5))).mean()
            sums[c, 1] += ((bbox_p.view(2, 2, 4, 3, 4)[:, c] - bbox_t[:, c]).abs() * norm_t[:, c, None]).mean()
    cost.end_epoch()
    for c, (tc, tb) in enumerate([(1.0, 10.0), (2.0, 1.0)]):
        raw = (tc / float(sums[c, 0]), tb / float(sums[c, 1]))
        expected = (raw[0] / sum(raw), raw[1] / sum(raw))
        assert cost.objective_weights[c] == pytest.approx(expected, rel=1e-4)
    assert all(math.isclose(sum(w), 1.0, rel_tol=1e-6) for w in cost.objective_weights)


def test_gradients_flow_and_are_finite() -> None:
    cov_p, bbox_p, cov_t, bbox_t, norm_t = _batch()
    cov_p.requires_grad_(True)
    bbox_p.requires_grad_(True)
    total, _ = _cost()(cov_p, bbox_p, cov_t, bbox_t, norm_t)
    total.backward()
    assert torch.isfinite(cov_p.grad).all() and bbox_p.grad.abs().sum() > 0


def test_anchored_iou_is_the_iou_of_the_decoded_boxes() -> None:
    from taokit.tasks.detectnet.loss import anchored_iou

    torch.manual_seed(0)
    pred, target = torch.rand(2, 1, 4, 3, 5) * 2, torch.rand(2, 1, 4, 3, 5) * 2
    target[0, 0, :, 1, 1] = 0.0  # a background cell: no target box
    got = anchored_iou(pred, target)
    for idx in [(0, 0, 2, 3), (1, 0, 0, 4), (0, 0, 1, 1)]:
        n, c, i, j = idx
        p, t = pred[n, c, :, i, j], target[n, c, :, i, j]
        box_p, box_t = torch.stack([-p[0], -p[1], p[2], p[3]]), torch.stack([-t[0], -t[1], t[2], t[3]])
        wh = (torch.minimum(box_p[2:], box_t[2:]) - torch.maximum(box_p[:2], box_t[:2])).clamp(min=0)
        inter = wh.prod()
        union = (box_p[2:] - box_p[:2]).prod() + (box_t[2:] - box_t[:2]).prod() - inter
        expected = inter / union if t.sum() > 0 else torch.tensor(0.0)
        torch.testing.assert_close(got[idx], expected)
    torch.testing.assert_close(anchored_iou(target, target)[target.sum(2) > 0], torch.ones(int((target.sum(2) > 0).sum())))


def test_iou_aware_coverage_lowers_the_target_of_poor_boxes() -> None:
    cost = DetectNetCost([ClassCost(1.0, 0.5, 1.0, 1.0, 1.0, 1.0)], iou_aware=True)
    plain = DetectNetCost([ClassCost(1.0, 0.5, 1.0, 1.0, 1.0, 1.0)])
    cov_t = torch.zeros(1, 1, 2, 2)
    cov_t[..., 0, 0] = 1.0
    bbox_t = torch.zeros(1, 1, 4, 2, 2)
    bbox_t[..., 0, 0] = 0.5
    cov_norm = cov_t.clone()
    bbox_p = torch.zeros(1, 4, 2, 2)
    bbox_p[0, :, 0, 0] = torch.tensor([0.5, 0.5, 0.1, 0.1])  # a box a fraction of the truth's size
    confident = torch.full((1, 1, 2, 2), 0.02)
    confident[..., 0, 0] = 0.98
    # with a poor box, a confident coverage costs more under the IoU target than under the plain one
    assert cost(confident, bbox_p, cov_t, bbox_t, cov_norm)[1]["cost/cov"] > \
        plain(confident, bbox_p, cov_t, bbox_t, cov_norm)[1]["cost/cov"]


def test_anchored_giou_subtracts_the_empty_share_of_the_enclosing_box() -> None:
    # target: the 2x2 box around the cell centre. Both boxes always hold the centre, so they overlap; GIoU
    # differs from IoU when neither encloses the other.
    target = torch.tensor([1.0, 1.0, 1.0, 1.0]).view(1, 4, 1, 1)
    inside = torch.tensor([1.0, 1.0, 0.0, 0.0]).view(1, 4, 1, 1)  # the target's top-left quarter
    torch.testing.assert_close(anchored_iou(inside, target), torch.full((1, 1, 1), 0.25))
    torch.testing.assert_close(anchored_giou(inside, target), anchored_iou(inside, target))  # enclosed: GIoU = IoU
    shifted = torch.tensor([0.2, 0.2, 2.0, 2.0]).view(1, 4, 1, 1)  # [-0.2, 2]^2 against [-1, 1]^2
    inter, union, enclose = 1.2 ** 2, 4 + 2.2 ** 2 - 1.2 ** 2, 3.0 ** 2
    torch.testing.assert_close(anchored_iou(shifted, target), torch.full((1, 1, 1), inter / union))
    torch.testing.assert_close(anchored_giou(shifted, target),
                               torch.full((1, 1, 1), inter / union - (enclose - union) / enclose))
    assert anchored_giou(inside, torch.zeros_like(target)).item() == 0.0  # background cell: no box


def test_giou_term_costs_poor_boxes_only_and_keeps_gradients_finite() -> None:
    cov_t, bbox_t, cov_norm = torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 4, 2, 2), torch.zeros(1, 1, 2, 2)
    cov_t[..., 0, 0], cov_norm[..., 0, 0], bbox_t[..., 0, 0] = 1.0, 1.0, 0.5
    cov = torch.full((1, 1, 2, 2), 0.5)
    exact = bbox_t.view(1, 4, 2, 2).clone()
    poor = exact.clone()
    poor[0, 2:, 0, 0] = 0.05  # right and bottom edges far inside the truth
    plain = DetectNetCost([ClassCost(1.0, 0.5, 1.0, 1.0, 1.0, 1.0)])
    giou = DetectNetCost([ClassCost(1.0, 0.5, 1.0, 1.0, 1.0, 1.0)], giou_weight=2.0)
    assert giou(cov, exact, cov_t, bbox_t, cov_norm)[1]["cost/bbox"].item() == pytest.approx(0.0, abs=1e-5)
    gap = giou(cov, poor, cov_t, bbox_t, cov_norm)[1]["cost/bbox"] - plain(cov, poor, cov_t, bbox_t, cov_norm)[1]["cost/bbox"]
    # 2 x (1 - IoU) on one of four cells: IoU of a 0.55 x 0.55 box inside a 1 x 1 one is 0.3025
    assert gap.item() == pytest.approx(2.0 * (1 - 0.3025) / 4, rel=1e-4)
    pred = (torch.rand(2, 4, 3, 3) - 0.3).requires_grad_(True)
    target = torch.rand(2, 1, 4, 3, 3)
    target[:, :, :, 0] = 0.0  # background cells: no box
    cost, _ = giou(torch.full((2, 1, 3, 3), 0.5), pred, (target.sum(2) > 0).float(), target, torch.ones(2, 1, 3, 3))
    cost.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0


def test_focal_gamma_scales_each_cells_cost_by_its_distance_to_the_target() -> None:
    cov_t = torch.tensor([[[[1.0, 0.0, 0.0, 0.6]]]])
    pred = torch.tensor([[[[0.9, 0.1, 0.6, 0.6]]]])  # easy positive, easy negative, hard negative, exact soft
    bbox = torch.zeros(1, 4, 1, 4)
    zeros = torch.zeros(1, 1, 4, 1, 4)
    plain = DetectNetCost([ClassCost(1.0, 0.5, 1.0, 0.0, 1.0, 0.0)])
    focal = DetectNetCost([ClassCost(1.0, 0.5, 1.0, 0.0, 1.0, 0.0)], focal_gamma=2.0)
    eps = 1e-5
    bce = -(cov_t * torch.log(pred + eps) + (1 - cov_t) * torch.log(1 - pred + eps))
    expected = (0.5 * bce * (pred - cov_t).abs() ** 2).mean()
    got = focal(pred, bbox, cov_t, zeros, torch.zeros_like(cov_t))[1]["cost/cov"]
    torch.testing.assert_close(got, expected)
    assert got < plain(pred, bbox, cov_t, zeros, torch.zeros_like(cov_t))[1]["cost/cov"]
    # the hard negative now carries most of the cost: 0.6^2 against 0.1^2 for the easy cells
    per_cell = bce * (pred - cov_t).abs() ** 2
    assert per_cell[..., 2] > 10 * per_cell[..., 0] and per_cell[..., 3] == 0


def test_dfl_is_the_cross_entropy_with_the_two_bins_around_the_target() -> None:
    logits = torch.tensor([0.0, 1.0, 2.0, 0.5]).view(1, 1, 4, 1, 1).expand(1, 4, 4, 1, 1)  # 4 edges, 4 bins
    log_p = torch.log_softmax(torch.tensor([0.0, 1.0, 2.0, 0.5]), dim=0)
    target = torch.tensor([1.25, 0.0, 2.99, 7.0]).view(1, 4, 1, 1)  # the last is past the last bin
    expected = -torch.stack([0.75 * log_p[1] + 0.25 * log_p[2], log_p[0], 0.01 * log_p[2] + 0.99 * log_p[3],
                             0.01 * log_p[2] + 0.99 * log_p[3]]).mean()
    got = distribution_focal_loss(logits, target)
    assert got.shape == (1, 1, 1) and got.item() == pytest.approx(expected.item(), rel=1e-5)
    sharp = torch.full((1, 4, 4, 1, 1), -20.0)
    sharp[:, :, 1] = 20.0
    assert distribution_focal_loss(sharp, torch.ones(1, 4, 1, 1)).item() == pytest.approx(0.0, abs=1e-6)


def test_dfl_term_weighs_foreground_cells_only_and_needs_the_logits() -> None:
    cov_t, bbox_t, cov_norm = torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 4, 2, 2), torch.zeros(1, 1, 2, 2)
    cov_t[..., 0, 0], cov_norm[..., 0, 0], bbox_t[..., 0, 0] = 1.0, 1.0, 0.5  # 0.5 units = 2.1875 bins
    cov, bbox = torch.full((1, 1, 2, 2), 0.5), bbox_t.view(1, 4, 2, 2).clone()
    logits = torch.randn(1, 4, 8, 2, 2, requires_grad=True)
    plain = DetectNetCost([ClassCost(1.0, 0.5, 1.0, 1.0, 1.0, 1.0)])
    dfl = DetectNetCost([ClassCost(1.0, 0.5, 1.0, 1.0, 1.0, 1.0)], dfl_weight=0.5, bins_per_unit=35 / 8)
    gap = dfl(cov, bbox, cov_t, bbox_t, cov_norm, None, logits)[1]["cost/bbox"] - \
        plain(cov, bbox, cov_t, bbox_t, cov_norm)[1]["cost/bbox"]
    per_cell = distribution_focal_loss(logits.detach().view(1, 1, 4, 8, 2, 2), bbox_t * 35 / 8)
    assert gap.item() == pytest.approx(0.5 * per_cell[0, 0, 0, 0].item() / 4, rel=1e-5)  # 1 of 4 cells
    assert dfl(cov, bbox, cov_t, bbox_t, cov_norm)[1]["cost/bbox"].item() == pytest.approx(0.0, abs=1e-6)
    cost, _ = dfl(cov, bbox, cov_t, bbox_t, cov_norm, None, logits)
    cost.backward()
    assert logits.grad[..., 0, 0].abs().sum() > 0 and logits.grad[..., 1, 1].abs().sum() == 0
