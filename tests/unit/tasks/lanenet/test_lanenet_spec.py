"""A TAO user's LaneNet spec loads unchanged (text and YAML), overrides apply, mistakes are one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from taokit.errors import SpecError
from taokit.spec import task_specs
from taokit.tasks.registry import get_task

USER_SPEC = """
dataset_config {
  data_sources: {
    label_directory_path: "/data/tusimple/labels"
    image_directory_path: "/data/tusimple/images"
  }
  image_extension: ".jpg"
  target_class_mapping { key: "lane" value: "lane" }
  validation_data_sources: {
    label_directory_path: "/data/tusimple/val_labels"
    image_directory_path: "/data/tusimple/images"
  }
}
model_config {
  input_image_width: 512
  input_image_height: 256
  input_image_channels: 3
  anchor_stride: 16
}
train_config {
  batch_size: 8
  epochs: 40
  learning_rate {
    soft_start_annealing_schedule {
      min_learning_rate: 1e-6
      max_learning_rate: 1e-3
      soft_start: 0.2
      annealing: 0.8
    }
  }
  regularizer { type: L2 weight: 1e-4 }
}
augmentation_config {
  output_width: 512
  output_height: 256
  horizontal_flip: true
  crop_and_resize_prob: 0.5
  zoom_min: 0.8
  zoom_max: 1.0
}
"""


def _load(tmp_path: Path, text: str, name: str = "lanenet.txt", overrides: list[str] | None = None):  # noqa: ANN202
    path = tmp_path / name
    path.write_text(text)
    return task_specs.load_file(get_task("lanenet"), path, None, overrides or [])


def test_the_users_spec_loads_and_every_key_lands(tmp_path: Path) -> None:
    spec = _load(tmp_path, USER_SPEC)
    d, m, t, a = spec.dataset_config, spec.model_config_, spec.train_config, spec.augmentation_config
    assert d.image_extension == "jpg" and d.validation_data_sources[0].label_directory_path.endswith("val_labels")
    assert spec.input_hw == (256, 512) and m.anchor_stride == 16 and m.input_image_channels == 3
    assert t.epochs == 40 and t.learning_rate.soft_start_annealing_schedule.annealing == 0.8
    assert (t.regularizer.type, t.regularizer.weight) == ("L2", 1e-4)
    assert a.horizontal_flip == 0.5 and (a.zoom_min, a.zoom_max) == (0.8, 1.0)  # `true` flips half the images


def test_overrides_and_yaml(tmp_path: Path) -> None:
    spec = _load(tmp_path, USER_SPEC, overrides=["model_config.input_image_width=1024", "train_config.epochs=30",
                                                  "augmentation_config.output_width=1024"])
    assert spec.input_hw == (256, 1024) and spec.train_config.epochs == 30
    yaml_spec = _load(tmp_path, "dataset_config:\n  data_sources:\n    - image_directory_path: a\n"
                                "      label_directory_path: b\nmodel_config:\n  arch: resnet\n  num_layers: 34\n",
                      "lanenet.yaml")
    assert yaml_spec.model_config_.arch == "resnet" and yaml_spec.model_config_.num_layers == 34


@pytest.mark.parametrize(("override", "message"), [
    ("augmentation_config.output_width=256", r"augmentation_config\.output_width: 256 differs from the network input"),
    ("model_config.input_image_width=500", r"input_image_width must be a multiple of 8"),
    ("model_config.anchor_stride=0", r"model_config\.anchor_stride"),
])
def test_mistakes_name_the_key(tmp_path: Path, override: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        _load(tmp_path, USER_SPEC, overrides=[override])
    with pytest.raises(SpecError, match=r"lanenet\.txt:\d+:\d+: model_config: unknown field 'anchor_strides' "
                                        r"\(did you mean 'anchor_stride'\?\)"):
        _load(tmp_path, USER_SPEC.replace("anchor_stride: 16", "anchor_strides: 16"))


def test_only_lanes_can_be_targets(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="the only LaneNet class is 'lane'; map label classes to it \\(got curb\\)"):
        _load(tmp_path, USER_SPEC.replace('value: "lane"', 'value: "curb"'))
