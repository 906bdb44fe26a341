"""Preprocessing modes, TAO's crops and the augmentations keep shapes and match their definitions."""

from __future__ import annotations

import numpy as np
import pytest

from taokit.tasks.classification.spec.unified import AugmentSection
from taokit.tasks.classification.transforms import (
    EvalTransform,
    Preprocess,
    TrainTransform,
    center_crop,
    random_crop,
    to_network,
)


def test_preprocess_modes_match_keras() -> None:
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    caffe = Preprocess.from_mode("caffe")
    out = caffe.apply(to_network(rgb, caffe.bgr))
    assert out[:, 0, 0] == pytest.approx([50 - 103.939, 100 - 116.779, 200 - 123.68], abs=1e-4)  # BGR
    torch_mode = Preprocess.from_mode("torch")
    out = torch_mode.apply(to_network(rgb, torch_mode.bgr))
    assert out[:, 0, 0] == pytest.approx([(200 / 255 - 0.485) / 0.229, (100 / 255 - 0.456) / 0.224,
                                          (50 / 255 - 0.406) / 0.225], abs=1e-5)
    tf = Preprocess.from_mode("tf", [1.0, 1.0, 1.0])  # tf mode takes no parameters
    assert tf.apply(to_network(rgb, tf.bgr))[:, 0, 0] == pytest.approx([200 / 127.5 - 1, 100 / 127.5 - 1,
                                                                        50 / 127.5 - 1], abs=1e-5)
    assert Preprocess.from_dict(caffe.to_dict()) == caffe


def test_crops_give_the_input_size() -> None:
    image = np.random.default_rng(0).integers(0, 255, (50, 80, 3), dtype=np.uint8)
    assert center_crop(image, (32, 32), "bilinear").shape == (32, 32, 3)
    assert center_crop(image[:32, :32], (32, 32), "bicubic") is not None  # same size: left alone, as in TAO
    rng = np.random.default_rng(1)
    crops = [random_crop(image, (24, 40), "bilinear", (0.45, 1.0), rng) for _ in range(5)]
    assert all(c.shape == (24, 40, 3) for c in crops)
    assert len({c.tobytes() for c in crops}) > 1


def test_train_transform_is_deterministic_per_seed_and_always_sized() -> None:
    image = np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)
    augment = AugmentSection(random_crop=True, hflip_probability=0.5, vflip_probability=0.5,
                             rotate_probability=1.0, rotate_angles=[90, 30], color_probability=1.0,
                             brightness=0.3, contrast=0.3, saturation=0.3, hue=0.1)
    transform = TrainTransform((32, 48), "bilinear", augment)
    a = transform(image, np.random.default_rng((1, 2, 3)))
    b = transform(image, np.random.default_rng((1, 2, 3)))
    assert a.shape == (32, 48, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
    assert EvalTransform((32, 48), "bilinear", True)(image).shape == (32, 48, 3)
