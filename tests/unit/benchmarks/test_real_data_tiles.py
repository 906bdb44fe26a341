"""The real-data benchmark's tiling (benchmarks/detectnet_real_data.py) on a tiny synthetic image."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from taokit_testing import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from detectnet_real_data import coco_scores, read_voc_boxes, tile_image, tile_positions  # noqa: E402


def test_tiles_cover_the_image_evenly() -> None:
    assert tile_positions(384, 384) == [0]
    assert tile_positions(300, 384) == [0]
    assert tile_positions(1000, 384) == [0, 308, 616]  # three tiles, the last ending at the edge
    assert tile_positions(2299, 384)[-1] == 2299 - 384 and len(tile_positions(2299, 384)) == 6


def test_boxes_follow_their_tile_and_slivers_are_dropped() -> None:
    image = np.zeros((100, 150, 3), np.uint8)
    image[10:20, 10:20] = 255
    boxes = np.array([[10, 10, 20, 20],      # inside the first tile only
                      [55, 30, 75, 40],      # across the edge between the tiles: 75% / 100% inside
                      [0, 90, 4, 99]])       # bottom-left, inside the first tile
    tiles = tile_image("img", image, boxes, tile=80, min_visible=0.5)
    assert [t.name for t in tiles] == ["img_0000_0000", "img_0000_0070", "img_0020_0000", "img_0020_0070"]
    first = tiles[0]
    assert first.image.shape == (80, 80, 3) and first.image[15, 15, 0] == 255
    assert first.boxes.tolist() == [[10, 10, 20, 20], [55, 30, 75, 40]]
    second = tiles[1]  # origin x 70: the edge box keeps its right 5 of 20 px (25%): dropped
    assert second.boxes.tolist() == []
    assert tiles[2].boxes.tolist() == [[55, 10, 75, 20], [0, 70, 4, 79]]  # origin y 20, in tile pixels


def test_read_voc_and_coco_scores_of_a_perfect_and_an_empty_prediction() -> None:
    xml = (b"<annotation><object><name>Tree</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax>"
           b"<ymax>40</ymax></bndbox></object></annotation>")
    assert read_voc_boxes(xml).tolist() == [[1, 2, 30, 40]]
    image = np.zeros((384, 384, 3), np.uint8)
    tiles = tile_image("t", image, np.array([[10, 10, 50, 50], [100, 100, 140, 150]]))
    perfect = {"t_0000_0000": [(10, 10, 50, 50, 0.9), (100, 100, 140, 150, 0.8)]}
    scores = coco_scores(tiles, perfect)
    assert scores["AP50"] == pytest.approx(1.0) and scores["AP75"] == pytest.approx(1.0)
    assert scores["recall50"] == pytest.approx(1.0)
    assert coco_scores(tiles, {})["AP50"] == 0.0


def test_coco_scores_agree_with_taokits_coco_map_over_many_tiles() -> None:
    """Both models are scored by coco_scores (pycocotools); taokit's evaluate by its own coco_map. On several
    tiles of jittered, missed and spurious boxes the two agree to 1e-4 (ids unique across tiles)."""
    from detectnet_real_data import Tile

    from taokit.metrics.coco import coco_map

    rng = np.random.default_rng(7)
    tiles, detections, det_boxes, det_scores = [], {}, [], []
    for k in range(6):
        xy = rng.uniform(0, 330, (int(rng.integers(3, 9)), 2))
        gt = np.concatenate([xy, xy + rng.uniform(20, 50, xy.shape)], axis=1)
        found = gt[rng.random(len(gt)) < 0.8]
        dets = np.concatenate([found + rng.normal(0, 4, found.shape), rng.uniform(0, 300, (2, 2)).repeat(2, 1)
                               + [0, 0, 30, 30]])
        scores = rng.uniform(0.05, 1.0, len(dets))
        tiles.append(Tile(f"tile{k}", np.zeros((384, 384, 3), np.uint8), gt))
        detections[f"tile{k}"] = [(*b, s) for b, s in zip(dets.tolist(), scores.tolist(), strict=True)]
        det_boxes.append(dets)
        det_scores.append(scores)
    ours = coco_map([t.boxes for t in tiles], [np.zeros(len(t.boxes)) for t in tiles], det_boxes, det_scores,
                    [np.zeros(len(d)) for d in det_boxes])
    theirs = coco_scores(tiles, detections)
    assert theirs["AP50_95"] == pytest.approx(ours.map, abs=1e-4)
    assert theirs["AP50"] == pytest.approx(ours.map_50, abs=1e-4)
    assert theirs["AP75"] == pytest.approx(ours.map_75, abs=1e-4)
    assert 0.2 < theirs["AP50"] < 1.0  # a case that can tell right from wrong
