"""What the training dataset feeds the network: mosaics until the close-mosaic tail, reproducible draws,
and targets on the model's own grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from taokit.spec import task_specs
from taokit.tasks.detectnet.dataset import Sample, TrainDataset
from taokit.tasks.detectnet.spec.dataset import ColorAugmentation
from taokit.tasks.registry import get_task
from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Sample]:
    from PIL import Image

    root = tmp_path_factory.mktemp("mosaic")
    out = []
    for k in range(4):
        image = np.zeros((64, 96, 3), np.uint8)
        image[..., k % 3] = 40 * (k + 1)  # each image its own colour
        image[20:36, 30:50] = 255
        Image.fromarray(image).save(root / f"{k}.png")
        out.append(Sample(root / f"{k}.png", np.array([[30, 20, 50, 36]], np.float32), np.array([0])))
    return out


def _spec(tmp_path: Path, **keys: object):  # noqa: ANN202
    return task_specs.load_file(get_task("detectnet"), DEMO_TRAIN_SPEC, "experiment", tiny_train_overrides(tmp_path, **{
        "training_config.num_epochs": 10, **{f"augmentation_config.spatial_augmentation.{k}": v for k, v in keys.items()}}))


def _dataset(samples: list[Sample], tmp_path: Path, **keys: object) -> TrainDataset:
    data = TrainDataset(samples, _spec(tmp_path, **keys), seed=1, grid_hw=(8, 12))
    data.color = ColorAugmentation()  # off: the images' own colours tell them apart
    return data


def _colours(image: np.ndarray) -> int:
    """Colours covering at least 5% of the image, black and white aside."""
    values, counts = np.unique(image.reshape(-1, 3), axis=0, return_counts=True)
    return sum(1 for v, c in zip(values.tolist(), counts, strict=True)
               if c >= 0.05 * image.shape[0] * image.shape[1] and v not in ([0, 0, 0], [255, 255, 255]))


def test_mosaics_until_the_close_mosaic_tail(samples: list[Sample], tmp_path: Path) -> None:
    data = _dataset(samples, tmp_path, mosaic_probability=1.0, close_mosaic_epochs=3)
    assert [data.mosaic_in(e) for e in range(1, 11)] == [True] * 7 + [False] * 3
    early = data[(2, 0)][0].numpy().transpose(1, 2, 0)
    late = data[(9, 0)][0].numpy().transpose(1, 2, 0)
    assert early.shape == late.shape == (64, 96, 3)
    assert _colours(early) >= 2 and _colours(late) == 1


def test_draws_repeat_for_the_same_epoch_and_index(samples: list[Sample], tmp_path: Path) -> None:
    data = _dataset(samples, tmp_path, mosaic_probability=0.5, rotate90_probability=0.5, hflip_probability=0.5,
                    zoom_min=0.7, zoom_max=1.5, min_box_area_fraction=0.2)
    for key in [(1, 0), (1, 3), (4, 2)]:
        first, second = data[key], data[key]
        assert all((a == b).all() for a, b in zip(first, second, strict=True))
    assert not (data[(1, 0)][0] == data[(2, 0)][0]).all()


def test_targets_are_on_the_given_grid(samples: list[Sample], tmp_path: Path) -> None:
    image, cov, bbox, cov_norm = _dataset(samples, tmp_path)[(1, 0)]
    assert tuple(cov.shape) == (3, 8, 12) and tuple(bbox.shape) == (3, 4, 8, 12)
    assert cov.max() > 0


def test_the_preview_skips_an_image_that_does_not_decode(samples: list[Sample], tmp_path: Path) -> None:
    from PIL import Image

    from taokit.tasks.detectnet.augment_preview import save_preview

    broken = tmp_path / "broken.png"
    broken.write_bytes(samples[0].image.read_bytes()[:100])
    spec = _spec(tmp_path)
    rows = [Sample(broken, samples[0].boxes, samples[0].class_ids), *samples[1:]]
    # mosaics read other images too: a row whose pieces include the broken one is left out, not fatal
    assert save_preview(_spec(tmp_path, mosaic_probability=1.0), rows, (8, 12), tmp_path / "mosaic.png")
    assert save_preview(spec, rows, (8, 12), tmp_path / "preview.png")
    assert Image.open(tmp_path / "preview.png").size[1] == 3 * 171 + 2 * 2  # three of the four rows
    assert not save_preview(spec, rows[:1], (8, 12), tmp_path / "none.png")  # nothing decodes: no file
    assert not (tmp_path / "none.png").exists()
