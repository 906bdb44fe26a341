"""loss_mask_label_filter: grid cells under chosen labels weigh `mask_multiplier` in the cost, as TAO's.

TAO's semantics (nvidia_tao_tf1/cv/detectnet_v2 objectives/, label_filter/, rasterizers/loss_mask_rasterizer.py):
- a config selects, for each of its target classes (empty: all) and objectives (empty: cov and bbox), the
  labels of that class that pass any of its dimension or crop filters, plus labels of any class named by a
  source-class filter (TAO compares that name after target_class_mapping, so it names a target class);
  several configs for one (class, objective) select the union;
- labels are boxes after augmentation, in network-input pixels; a proto3 zero means "not set": a 0 bound
  is no bound, and a crop with any side 0 selects every label;
- a cell is under a box when any of its 5x5 sample points lies in the box (grid units, half-open);
- masked cells weigh `mask_multiplier` (0 when unset: ignored), others 1; `preserve_ground_truth` keeps
  1 where the class's coverage target is above 0;
- the targets themselves are unchanged; the cost's mean still runs over every cell.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from taokit.errors import SpecError
from taokit.tasks.detectnet.spec.model import LabelFilter, ObjectiveLabelFilter

OBJECTIVES = ("cov", "bbox")
_SAMPLES = np.array([0.1, 0.3, 0.5, 0.7, 0.9], np.float32)
KEY = "loss_mask_label_filter"
log = logging.getLogger("taokit.detectnet")


@dataclass
class PairRule:
    """What one (target class, objective) masks: labels of the class passing a bounds or crop test, and
    labels of the named classes."""

    bounds: list[tuple[float | None, float | None, float | None, float | None]] = field(default_factory=list)
    crops: list[tuple[int, int, int, int] | None] = field(default_factory=list)  # None: every label
    by_class: set[int] = field(default_factory=set)

    def select(self, boxes: np.ndarray, class_ids: np.ndarray, class_id: int) -> np.ndarray:
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        hit = np.zeros(len(boxes), bool)
        for min_w, min_h, max_w, max_h in self.bounds:
            ok = np.ones(len(boxes), bool)
            for value, bound, low in ((w, min_w, True), (h, min_h, True), (w, max_w, False), (h, max_h, False)):
                if bound is not None:
                    ok &= value >= bound if low else value <= bound
            hit |= ok
        for crop in self.crops:
            if crop is None:
                hit[:] = True
                continue
            left, right, top, bottom = crop
            hit |= (boxes[:, 0] < right) & (boxes[:, 2] > left) & (boxes[:, 1] < bottom) & (boxes[:, 3] > top)
        hit &= class_ids == class_id
        return hit | np.isin(class_ids, sorted(self.by_class))


@dataclass
class LossMask:
    rules: dict[tuple[int, int], PairRule]  # (class id, objective index) -> rule
    multiplier: float
    preserve_ground_truth: bool

    def rasterize(self, boxes: np.ndarray, class_ids: np.ndarray, cov: np.ndarray,
                  input_hw: tuple[int, int]) -> np.ndarray:
        """(C, 2, H, W) weights for one image: its boxes (network-input pixels) and coverage target (C, H, W)."""
        num_classes, gh, gw = cov.shape
        mask = np.ones((num_classes, 2, gh, gw), np.float32)
        if not len(boxes):
            return mask
        scale = np.array([gw / input_hw[1], gh / input_hw[0]] * 2, np.float32)
        grid = boxes.astype(np.float32) * scale
        for (c, objective), rule in self.rules.items():
            chosen = grid[rule.select(boxes, class_ids, c)]
            if not len(chosen):
                continue
            cells = _cells_under(chosen, gh, gw)
            if self.preserve_ground_truth:
                cells &= cov[c] <= 0
            mask[c, objective][cells] = self.multiplier
        return mask


def _cells_under(grid_boxes: np.ndarray, gh: int, gw: int) -> np.ndarray:
    """(H, W): cells with any 5x5 sample point inside any box (x1 <= x < x2, y1 <= y < y2)."""
    xs = np.arange(gw, dtype=np.float32)[:, None] + _SAMPLES  # (W, 5)
    ys = np.arange(gh, dtype=np.float32)[:, None] + _SAMPLES
    x1, y1, x2, y2 = (grid_boxes[:, k, None, None] for k in range(4))
    cols = ((xs >= x1) & (xs < x2)).any(-1)  # (K, W)
    rows = ((ys >= y1) & (ys < y2)).any(-1)  # (K, H)
    return (rows[:, :, None] & cols[:, None, :]).any(0)


def build_loss_mask(config: ObjectiveLabelFilter, class_names: list[str]) -> LossMask | None:
    """The spec's filters as rules, or None when there are none (every cell weighs 1)."""
    if not config.objective_label_filter_configs:
        return None
    index = {name: i for i, name in enumerate(class_names)}
    rules: dict[tuple[int, int], PairRule] = {}
    for n, entry in enumerate(config.objective_label_filter_configs):
        key = f"{KEY}.objective_label_filter_configs[{n}]"
        unknown = [c for c in entry.target_class_names if c not in index]
        if unknown:
            raise SpecError(f"unknown target class '{unknown[0]}'; the classes are {class_names}",
                            key=f"{key}.target_class_names")
        bad = [o for o in entry.objective_names if o not in OBJECTIVES]
        if bad:
            raise SpecError(f"unknown objective '{bad[0]}'; use cov or bbox", key=f"{key}.objective_names")
        for c in [index[c] for c in entry.target_class_names] or range(len(class_names)):
            for o in [OBJECTIVES.index(o) for o in entry.objective_names] or range(len(OBJECTIVES)):
                _add(rules.setdefault((c, o), PairRule()), entry.label_filter, index, f"{key}.label_filter")
    return LossMask(rules, config.mask_multiplier, config.preserve_ground_truth)


def _add(rule: PairRule, label_filter: LabelFilter, index: dict[str, int], key: str) -> None:
    dims, crop, source = (label_filter.bbox_dimensions_label_filter, label_filter.bbox_crop_label_filter,
                          label_filter.source_class_label_filter)
    if dims is None and crop is None and source is None:
        raise SpecError("a label_filter needs bbox_dimensions_label_filter, bbox_crop_label_filter or "
                        "source_class_label_filter", key=key)
    if dims is not None:
        bounds = tuple(v or None for v in (dims.min_width, dims.min_height, dims.max_width, dims.max_height))
        for lo, hi, name in ((bounds[0], bounds[2], "width"), (bounds[1], bounds[3], "height")):
            if lo is not None and hi is not None and lo >= hi:
                raise SpecError(f"min_{name} ({lo:g}) must be below max_{name} ({hi:g})",
                                key=f"{key}.bbox_dimensions_label_filter")
        rule.bounds.append(bounds)
    if crop is not None:
        sides = (crop.crop_left, crop.crop_right, crop.crop_top, crop.crop_bottom)
        if all(sides) and (sides[0] >= sides[1] or sides[2] >= sides[3]):
            raise SpecError("crop_left must be below crop_right and crop_top below crop_bottom",
                            key=f"{key}.bbox_crop_label_filter")
        rule.crops.append(sides if all(sides) else None)
    if source is not None:
        for name in source.source_class_names:
            if name not in index:
                log.warning("%s.source_class_label_filter: '%s' is not a target class and selects no label (TAO "
                            "compares source_class_names after target_class_mapping)", key, name)
        # an empty list passes every label, as TAO's
        names = source.source_class_names or list(index)
        rule.by_class |= {index[n] for n in names if n in index}
