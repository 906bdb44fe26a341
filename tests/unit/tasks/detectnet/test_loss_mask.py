"""loss_mask_label_filter as TAO's: which labels a filter selects, which cells it masks, what the cost does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from taokit.errors import SpecError
from taokit.tasks.detectnet.loss import ClassCost, DetectNetCost
from taokit.tasks.detectnet.loss_mask import build_loss_mask
from taokit.tasks.detectnet.spec.model import ObjectiveLabelFilter

CLASSES = ["car", "person"]
# grid 4x4 over a 64x64 input (16 px cells)
BOXES = np.array([[0, 0, 10, 10],      # car, small, top-left cell
                  [32, 32, 64, 64],    # car, large, bottom-right 2x2 cells
                  [40, 0, 56, 12]],    # person, top row
                 np.float32)
IDS = np.array([0, 0, 1])


def _mask(config: dict, cov: np.ndarray | None = None) -> np.ndarray:
    rules = build_loss_mask(ObjectiveLabelFilter.model_validate(config), CLASSES)
    assert rules is not None
    return rules.rasterize(BOXES, IDS, np.zeros((2, 4, 4), np.float32) if cov is None else cov, (64, 64))


def _one(label_filter: dict, **extra: object) -> dict:
    return {"objective_label_filter_configs": [{"label_filter": label_filter, **extra}], "mask_multiplier": 0.25}


def test_no_filters_no_mask() -> None:
    assert build_loss_mask(ObjectiveLabelFilter(), CLASSES) is None


def test_dimension_bounds_are_inclusive_and_zero_is_no_bound() -> None:
    mask = _mask(_one({"bbox_dimensions_label_filter": {"max_width": 10, "max_height": 10}}))
    expected = np.ones((4, 4), np.float32)
    expected[0, 0] = 0.25  # the 10x10 car: width 10 <= 10 is inside the bound
    np.testing.assert_array_equal(mask[0, 0], expected)
    np.testing.assert_array_equal(mask[0, 1], expected)  # no objective named: both
    np.testing.assert_array_equal(mask[1], 1.0)  # the person is not a small car
    large = _mask(_one({"bbox_dimensions_label_filter": {"min_width": 20}}, target_class_names=["car"]))
    assert (large[0, 0][2:, 2:] == 0.25).all() and (large[0, 0] == 0.25).sum() == 4


def test_crop_selects_overlapping_labels_and_a_zero_side_selects_all() -> None:
    mask = _mask(_one({"bbox_crop_label_filter": {"crop_left": 5, "crop_right": 20, "crop_top": 5,
                                                   "crop_bottom": 20}}, objective_names=["bbox"]))
    assert mask[0, 1, 0, 0] == 0.25 and (mask[0, 1] == 0.25).sum() == 1  # partial overlap counts
    np.testing.assert_array_equal(mask[:, 0], 1.0)  # cov untouched
    every = _mask(_one({"bbox_crop_label_filter": {"crop_left": 0, "crop_right": 20, "crop_top": 5,
                                                    "crop_bottom": 20}}))
    assert (every[0, 0] == 0.25).sum() == 1 + 4 and (every[1, 0] == 0.25).sum() == 2  # the person: x 2.5-3.5 cells


def test_source_class_selects_that_class_for_the_configured_targets() -> None:
    mask = _mask(_one({"source_class_label_filter": {"source_class_names": ["person"]}},
                      target_class_names=["car"], objective_names=["cov"]))
    assert mask[0, 0, 0, 2:4].tolist() == [0.25, 0.25]  # the person's cells, in the car's cov cost
    assert (mask[0, 0] == 0.25).sum() == 2 and (mask[0, 1] == 1).all() and (mask[1] == 1).all()


def test_preserve_ground_truth_keeps_foreground_cells() -> None:
    cov = np.zeros((2, 4, 4), np.float32)
    cov[0, 3, 3] = 0.7
    config = {**_one({"bbox_dimensions_label_filter": {"min_width": 20}}), "preserve_ground_truth": True}
    mask = _mask(config, cov)
    assert mask[0, 0, 3, 3] == 1.0 and (mask[0, 0] == 0.25).sum() == 3


def test_unset_multiplier_is_zero_as_tao() -> None:
    rules = build_loss_mask(ObjectiveLabelFilter.model_validate(
        {"objective_label_filter_configs": [{"label_filter": {"bbox_dimensions_label_filter": {"min_width": 20}}}]}),
        CLASSES)
    assert rules is not None and rules.multiplier == 0.0


@pytest.mark.parametrize("config,key", [
    (_one({"bbox_dimensions_label_filter": {}}, target_class_names=["truck"]), "target_class_names"),
    (_one({"bbox_dimensions_label_filter": {}}, objective_names=["depth"]), "objective_names"),
    (_one({}), "label_filter"),
    (_one({"bbox_dimensions_label_filter": {"min_width": 9, "max_width": 5}}), "bbox_dimensions_label_filter"),
    (_one({"bbox_crop_label_filter": {"crop_left": 9, "crop_right": 5, "crop_top": 1, "crop_bottom": 4}}),
     "bbox_crop_label_filter"),
])
def test_bad_filters_name_their_key(config: dict, key: str) -> None:
    with pytest.raises(SpecError) as err:
        build_loss_mask(ObjectiveLabelFilter.model_validate(config), CLASSES)
    assert key in str(err.value.key)


def test_masked_cells_leave_the_cost_but_not_its_mean() -> None:
    torch.manual_seed(0)
    cost = DetectNetCost([ClassCost(1.0, 0.05, 1.0, 10.0, 1.0, 10.0)])
    cov_p, bbox_p = torch.rand(2, 1, 4, 4) * 0.9 + 0.05, torch.randn(2, 4, 4, 4)
    cov_t, bbox_t, norm_t = (torch.rand(2, 1, 4, 4) > 0.7).float(), torch.randn(2, 1, 4, 4, 4), torch.rand(2, 1, 4, 4)
    mask = torch.ones(2, 1, 2, 4, 4)
    mask[:, :, :, :2] = 0.0  # the top half ignored
    _, logs = cost(cov_p, bbox_p, cov_t, bbox_t, norm_t, mask)
    # the same cost with the top half's predictions set to their targets' (zero error there), over all cells
    cov_same, bbox_same = cov_p.clone(), bbox_p.clone().view(2, 1, 4, 4, 4)
    cov_same[..., :2, :] = cov_t[..., :2, :].clamp(1e-7, 1 - 1e-7)
    bbox_same[..., :2, :] = bbox_t[..., :2, :]
    cov_t2 = cov_t.clone()
    _, plain = cost(cov_same, bbox_same.view(2, 4, 4, 4), cov_t2, bbox_t, norm_t)
    torch.testing.assert_close(logs["cost/bbox"], plain["cost/bbox"])
    assert logs["cost/cov"] < cost(cov_p, bbox_p, cov_t, bbox_t, norm_t)[1]["cost/cov"]
