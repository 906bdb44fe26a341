"""LaneNet's zoom is a magnification, as the TAO LaneNet guides' specs write it: lanes stay on their pixels."""

from __future__ import annotations

import numpy as np
import pytest

from taokit.spec import load_spec
from taokit.tasks.lanenet.dataset import augment, to_network
from taokit.tasks.lanenet.spec import LaneNetExperiment

H, W = 72, 128


def _spec(tmp_path, zoom_min: float, zoom_max: float) -> LaneNetExperiment:
    path = tmp_path / "spec.txt"
    path.write_text('dataset_config { data_sources: { image_directory_path: "i" label_directory_path: "l" } }\n'
                    "model_config { input_image_width: 128 input_image_height: 72 }\n"
                    f"augmentation_config {{ horizontal_flip: 0.0 crop_and_resize_prob: 1.0 zoom_min: {zoom_min} "
                    f"zoom_max: {zoom_max} }}\n")
    return load_spec(path, LaneNetExperiment)


def _scene() -> tuple[np.ndarray, list[np.ndarray]]:
    """A black frame with one white diagonal lane whose label is the drawn polyline."""
    import cv2

    lane = np.array([[20.0, 70.0], [60.0, 36.0], [100.0, 2.0]], np.float32)
    image = np.zeros((H, W, 3), np.uint8)
    cv2.polylines(image, [lane.astype(np.int32).reshape(-1, 1, 2)], False, (255, 255, 255), 3)
    return image, [lane]


def _on_lane(image: np.ndarray, lane: np.ndarray) -> float:
    """Mean brightness of the image under the label's points that fall inside it."""
    inside = [(x, y) for x, y in np.round(lane).astype(int) if 0 <= x < image.shape[1] and 0 <= y < image.shape[0]]
    assert inside
    return float(np.mean([image[y, x].mean() for x, y in inside]))


@pytest.mark.parametrize(("zoom", "expected_hw"), [(2.0, (36, 64)), (0.5, (144, 256)), (1.0, (H, W))])
def test_zoom_is_a_magnification_and_lanes_follow_the_pixels(tmp_path, zoom: float, expected_hw) -> None:
    spec = _spec(tmp_path, zoom, zoom)
    image, lanes = _scene()
    for seed in range(5):
        out, moved = augment(image, lanes, spec, np.random.default_rng(seed))
        assert out.shape[:2] == expected_hw  # 2.0: half of each side; 0.5: twice each side, padded
        net, net_lanes = to_network(out, moved, (H, W))
        if zoom > 1:
            try:
                assert _on_lane(net, net_lanes[0]) > 200
            except AssertionError:  # the crop may miss the lane entirely; then no label point is inside
                assert not any(0 <= x < W and 0 <= y < H for x, y in net_lanes[0])
        else:
            assert _on_lane(net, net_lanes[0]) > 200
    if zoom < 1:
        assert (out == 0).mean() > 0.7  # the canvas around the shrunk image is padding


def test_the_guides_zoom_range_loads_and_values_outside_it_are_refused(tmp_path) -> None:
    spec = _spec(tmp_path, 1.0, 2.0)
    assert (spec.augmentation_config.zoom_min, spec.augmentation_config.zoom_max) == (1.0, 2.0)
    from taokit.errors import SpecError

    with pytest.raises(SpecError, match="zoom_min .* is larger than zoom_max"):
        _spec(tmp_path, 2.0, 1.0)
    with pytest.raises(SpecError, match=r"augmentation_config\.zoom_max"):
        _spec(tmp_path, 1.0, 9.0)
