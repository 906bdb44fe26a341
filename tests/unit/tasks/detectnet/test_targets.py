"""The coverage rasterizer against a literal per-pixel reading of tao.md §3.3, and the decode round trip."""

from __future__ import annotations

import numpy as np
import pytest

from taokit.tasks.detectnet.postprocess import ClassPostprocess, postprocess
from taokit.tasks.detectnet.spec.postprocess import ClusteringConfig
from taokit.tasks.detectnet.targets import RasterizerClass, RasterizerParams, rasterize


def reference_rasterize(boxes, class_ids, p: RasterizerParams):  # noqa: ANN001, ANN201
    """tao.md §3.3 written out pixel by pixel, object by object, with no vectorisation."""
    gh, gw = p.grid_hw
    ih, iw = p.input_hw
    sx, sy = iw / gw, ih / gh
    c_n = len(p.classes)
    cov = np.zeros((c_n, gh, gw))
    bbox = np.zeros((c_n, 4, gh, gw))
    norm = np.zeros((c_n, gh, gw))
    best = np.zeros((c_n, gh, gw))
    order = sorted(range(len(boxes)), key=lambda k: boxes[k][3])
    for k in order:
        x1p, y1p, x2p, y2p = boxes[k]
        c = class_ids[k]
        cfg = p.classes[c]
        x1, y1, x2, y2 = x1p / sx, y1p / sy, x2p / sx, y2p / sy
        cx, cy = x1 + cfg.cov_center_x * (x2 - x1), y1 + cfg.cov_center_y * (y2 - y1)
        ex = cx - x1 if cfg.cov_center_x < 0.5 else x2 - cx
        ey = cy - y1 if cfg.cov_center_y < 0.5 else y2 - cy
        csx, csy = max(cfg.cov_radius_x * ex, 0.1), max(cfg.cov_radius_y * ey, 0.1)
        if csx < cfg.bbox_min_radius:
            csy, csx = cfg.bbox_min_radius * csy / csx, cfg.bbox_min_radius
        if csy < cfg.bbox_min_radius:
            csx, csy = cfg.bbox_min_radius * csx / csy, cfg.bbox_min_radius
        dsx = max((1 - p.deadzone_radius) * csx + p.deadzone_radius * ex, csx)
        dsy = max((1 - p.deadzone_radius) * csy + p.deadzone_radius * ey, csy)
        inv_area = 1.0 / max(4 * csx * csy, 1.0)
        for j in range(gh):
            for i in range(gw):
                a = v = 0.0
                for sj in range(4):
                    for si in range(4):
                        px, py = i + (si + 0.5) / 4, j + (sj + 0.5) / 4
                        a += (((px - cx) / dsx) ** 2 + ((py - cy) / dsy) ** 2 < 1) / 16
                        v += (((px - cx) / csx) ** 2 + ((py - cy) / csy) ** 2 < 1) / 16
                if a >= best[c, j, i] and a > 0:
                    cov[c, j, i] = norm[c, j, i] = best[c, j, i] = 0
                    bbox[c, :, j, i] = 0
                if v >= best[c, j, i] and v > 0:
                    gx, gy = i * sx + p.offset, j * sy + p.offset
                    cov[c, j, i], norm[c, j, i], best[c, j, i] = v, v * inv_area, v
                    bbox[c, :, j, i] = [(gx - x1p) / p.scale, (gy - y1p) / p.scale, (x2p - gx) / p.scale,
                                        (y2p - gy) / p.scale]
    return cov, bbox, norm


def _params(deadzone: float = 0.4) -> RasterizerParams:
    classes = (RasterizerClass(0.5, 0.5, 0.4, 0.4, 1.0), RasterizerClass(0.3, 0.6, 1.0, 0.8, 0.5))
    return RasterizerParams(classes, deadzone, (96, 160), (6, 10))


@pytest.mark.parametrize("seed", range(6))
def test_matches_the_per_pixel_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 6))
    xy = rng.uniform(-10, 140, (k, 2))
    wh = rng.uniform(4, 70, (k, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    ids = rng.integers(0, 2, k)
    params = _params(float(rng.uniform(0, 1)))
    got = rasterize(boxes, ids, params)
    cov, bbox, norm = reference_rasterize(boxes.astype(np.float64), ids, params)
    np.testing.assert_allclose(got.cov, cov, atol=1e-6)
    np.testing.assert_allclose(got.cov_norm, norm, atol=1e-6)
    np.testing.assert_allclose(got.bbox, bbox, atol=1e-4)


def test_lower_object_is_drawn_on_top() -> None:
    params = RasterizerParams((RasterizerClass(),), 0.0, (64, 64), (4, 4))
    far, near = [8, 8, 56, 40], [8, 24, 56, 56]  # near has the larger ymax
    t = rasterize(np.array([near, far], np.float32), np.array([0, 0]), params)
    shared = t.cov[0] > 0
    # wherever both cover a cell, the bbox target encodes the near object's bottom edge
    decoded_bottom = np.arange(4)[:, None] * 16 + 0.5 + t.bbox[0, 3] * 35.0
    assert np.allclose(decoded_bottom[shared & (np.arange(4)[:, None] >= 2)], 56, atol=1e-3)


def test_no_objects_gives_empty_targets() -> None:
    t = rasterize(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), _params())
    assert not t.cov.any() and not t.bbox.any()


def test_round_trip_recovers_ground_truth_boxes() -> None:
    """Targets fed back as predictions decode and cluster to the original boxes."""
    params = RasterizerParams((RasterizerClass(cov_radius_x=0.6, cov_radius_y=0.6), RasterizerClass()), 0.3,
                              (192, 320), (12, 20))
    boxes = np.array([[20, 30, 100, 90], [150, 40, 200, 170], [230, 100, 310, 185]], np.float32)
    ids = np.array([0, 1, 0])
    t = rasterize(boxes, ids, params)
    cov = t.cov[None]
    bbox = t.bbox.reshape(1, -1, 12, 20)
    cfg = ClusteringConfig(coverage_threshold=0.05, dbscan_eps=0.1, dbscan_min_samples=1,
                           dbscan_confidence_threshold=0.0, minimum_bounding_box_height=2)
    dets = postprocess(cov, bbox, ["a", "b"], {"a": ClassPostprocess(cfg), "b": ClassPostprocess(cfg)},
                       (192, 320))[0]
    assert len(dets) == 3
    for box, cls in zip(boxes, ["a", "b", "a"], strict=True):
        match = [d for d in dets if d.class_name == cls and abs(d.x1 - box[0]) < 1e-3]
        assert match, (box, dets)
        d = match[0]
        np.testing.assert_allclose([d.x1, d.y1, d.x2, d.y2], box, atol=1e-3)


@pytest.mark.parametrize("min_radius,foreground", [(0.3, False), (1.0, True)])
def test_peak_coverage_is_the_best_cell_of_each_object_alone(min_radius: float, foreground: bool) -> None:
    from taokit.tasks.detectnet.targets import peak_coverage

    params = RasterizerParams((RasterizerClass(cov_radius_x=0.4, cov_radius_y=0.4, bbox_min_radius=min_radius),),
                              0.0, (64, 64), (4, 4))
    boxes = np.array([[10, 10, 26, 26], [40, 40, 56, 56]], np.float32)  # one cell across, straddling cells
    peak = peak_coverage(boxes, np.array([0, 0]), params)
    together = rasterize(boxes, np.array([0, 0]), params).cov[0]
    assert peak.shape == (2,) and np.isclose(peak.max(), together.max())
    assert ((peak > 0.5) == foreground).all()


def test_dense_small_objects_own_cells_at_stride_8_not_at_16() -> None:
    """Crowns 10 px wide, 12 px apart: a cell holds one object's box, so a stride-16 grid (64 cells) cannot
    hold the 100 objects and no trained model could return them all; at stride 8 every one owns a cell."""
    from taokit.tasks.detectnet.decode import decode_boxes

    rng = np.random.default_rng(0)
    centres = np.stack(np.meshgrid(np.arange(8, 128, 12), np.arange(8, 128, 12)), -1).reshape(-1, 2)
    centres = centres + rng.uniform(-1, 1, centres.shape)
    boxes = np.concatenate([centres - 5, centres + 5], axis=1).astype(np.float32)
    owned = {}
    for stride in (16, 8):
        grid = (128 // stride, 128 // stride)
        params = RasterizerParams((RasterizerClass(cov_radius_x=0.8, cov_radius_y=0.8, bbox_min_radius=0.5),),
                                  0.0, (128, 128), grid)
        t = rasterize(boxes, np.zeros(len(boxes), np.int64), params)
        decoded = decode_boxes(t.bbox.reshape(4, *grid), (128, 128))[0][t.cov[0] > 0]  # perfect predictions
        owned[stride] = len({tuple(np.round(b, 2)) for b in decoded})
    assert owned[8] == len(boxes) == 100
    assert owned[16] <= 64


@pytest.mark.parametrize("radius", [0.4, 1.0])
def test_farthest_edges_is_the_largest_bbox_target_of_the_cells_that_regress_the_object(radius: float) -> None:
    from taokit.tasks.detectnet.targets import farthest_edges

    params = RasterizerParams((RasterizerClass(cov_radius_x=radius, cov_radius_y=radius),), 0.0, (256, 320),
                              (32, 40))
    boxes = np.array([[30, 40, 230, 120], [250, 200, 262, 214]], np.float32)  # 200x80 px, 12x14 px
    reach = farthest_edges(boxes, np.array([0, 0]), params)
    for k in range(2):
        targets = rasterize(boxes[k:k + 1], np.array([0]), params)
        expected = (targets.bbox[0] * params.scale).max(axis=0)[targets.cov[0] > 0].max()
        assert np.isclose(reach[k], expected, atol=1e-3)
    # a cell at the ellipse's rim is (1 + radius) / 2 of the object from the far edge, not half of it
    assert reach[0] > 100 * (1 + radius) - 8
