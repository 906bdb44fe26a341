"""TAO's classification specs (tf1 protobuf text, PyTorch YAML) map into one ClassificationSpec."""

from __future__ import annotations

from pathlib import Path

import pytest

from taokit.errors import SpecError
from taokit.spec import task_specs
from taokit.tasks.classification.network import arch_from_spec
from taokit.tasks.classification.spec import ClassificationSpec
from taokit.tasks.registry import get_task
from taokit_testing import line_of

TASK = get_task("classification")


def test_tf1_fixture_values(tao_specs: Path) -> None:
    spec = task_specs.load_file(TASK, tao_specs / "classification_spec.cfg")
    assert isinstance(spec, ClassificationSpec) and spec.source == "tf1"
    assert (spec.model.arch, spec.model.num_layers, spec.input_hw) == ("resnet", 18, (224, 224))
    assert spec.model.freeze_blocks == [0, 1] and spec.model.use_batch_norm and spec.model.all_projections
    assert spec.data.train_dir.endswith("split/train") and spec.data.val_dir.endswith("split/val")
    assert spec.data.preprocess_mode == "caffe" and spec.eval_dir.endswith("split/test")
    t = spec.train
    assert (t.batch_size, t.epochs, t.label_smoothing) == (64, 80, 0.0)
    assert t.pretrained_model_path.endswith("resnet_18.hdf5")
    assert (t.optimizer.type, t.optimizer.momentum, t.optimizer.nesterov) == ("sgd", 0.9, False)
    # lr_config wins over the optimizer's lr, as in TAO; step_size is a percentage of training
    assert (t.schedule.type, t.schedule.learning_rate, t.schedule.step_fraction, t.schedule.gamma) == \
        ("step", pytest.approx(0.006), pytest.approx(0.1), pytest.approx(0.1))
    assert (t.regularizer.type, t.regularizer.scope) == ("l2", ["conv2d", "dense"])
    assert t.regularizer.weight == pytest.approx(5e-5)
    a = spec.augment
    assert a.random_crop and a.center_crop and a.mixup_alpha == pytest.approx(0.1) and a.hflip_probability == 0.5
    e = spec.evaluate
    assert (e.top_k, e.batch_size, e.n_workers, e.center_crop) == (3, 256, 8, True)
    assert e.model_path.endswith("resnet_080.hdf5")


def test_tf1_retrain_fixture_points_at_the_pruned_model(tao_specs: Path) -> None:
    spec = task_specs.load_file(TASK, tao_specs / "classification_retrain_spec.cfg")
    assert spec.train.pretrained_model_path.endswith("resnet18_nopool_bn_pruned.hdf5")
    assert spec.model.freeze_blocks == []


def test_pyt_fixture_values(tao_specs: Path) -> None:
    spec = task_specs.load_file(TASK, tao_specs / "train_cats_dogs.yaml")
    assert spec.source == "pyt"
    assert spec.model.arch == "fan_small_12_p4_hybrid" and spec.model.freeze_backbone
    assert spec.model.pretrained_backbone_path.endswith("fan_hybrid_small.pth")
    assert spec.input_hw == (224, 224) and spec.data.num_classes == 2
    assert spec.data.train_dir == "/data/cats_dogs_dataset/training_set/training_set"
    assert spec.data.test_dir == "/data/cats_dogs_dataset/test_set/test_set"
    assert spec.data.preprocess_mode == "torch" and spec.data.mean == [0.485, 0.456, 0.406]
    t = spec.train
    assert (t.batch_size, t.epochs, t.seed, t.label_smoothing) == (128, 10, 47, pytest.approx(0.1))
    assert (t.optimizer.type, t.optimizer.weight_decay, t.schedule.type) == ("adamw", 0.05, "cosine")
    assert t.schedule.learning_rate == pytest.approx(0.001)
    a = spec.augment
    assert (a.hflip_probability, a.vflip_probability, a.rotate_probability) == (0.5, 0.0, 0.5)
    assert a.rotate_angles == [90, 180, 270] and a.color_probability == 0.0 and not a.random_crop
    assert spec.evaluate.top_k == 1


def test_unsupported_backbone_fails_only_when_a_model_is_built(tao_specs: Path) -> None:
    spec = task_specs.load_file(TASK, tao_specs / "train_cats_dogs.yaml")  # loads fine
    with pytest.raises(SpecError, match=r"model\.backbone\.type: backbone 'fan_small_12_p4_hybrid' is not available"):
        arch_from_spec(spec, ["cat", "dog"])


def test_pyt_resnet_names_map_to_arch_and_depth(tao_specs: Path) -> None:
    spec = task_specs.load_file(TASK, tao_specs / "train_cats_dogs.yaml", overrides=["model.backbone.type=resnet_34"])
    assert (spec.model.arch, spec.model.num_layers) == ("torchvision_resnet", 34)  # mmpretrain ResNet = torchvision layout
    assert arch_from_spec(spec, ["cat", "dog"]).num_layers == 34


def _copy_with(src: Path, dst: Path, old: str, new: str) -> Path:
    text = src.read_text()
    assert old in text
    dst.write_text(text.replace(old, new, 1))
    return dst


@pytest.mark.parametrize(("name", "old", "new", "expected"), [
    ("classification_spec.cfg", "  n_layers: 18", "  n_layer: 18",
     r"classification_spec\.cfg:{line}:\d+: model_config: unknown field 'n_layer' \(did you mean 'n_layers'\?\)"),
    ("classification_spec.cfg", 'arch: "resnet"', 'arch: "resnt"',
     r"classification_spec\.cfg:{line}:\d+: model_config\.arch: unknown arch 'resnt' \(did you mean 'resnet'\?\)"),
    ("classification_spec.cfg", 'input_image_size: "3,224,224"', 'input_image_size: "1,224,224"',
     r"classification_spec\.cfg:{line}:\d+: model_config\.input_image_size: taokit trains 3-channel models"),
    ("classification_spec.cfg", "gamma: 0.1", "gamma: 1.5",
     r"classification_spec\.cfg:{line}:\d+: train_config\.lr_config\.step\.gamma: "),
    ("train_cats_dogs.yaml", "  num_gpus: 1", "  num_gpu: 1",
     r"train_cats_dogs\.yaml:{line}:\d+: train: unknown field 'num_gpu' \(did you mean 'num_gpus'\?\)"),
    ("train_cats_dogs.yaml", 'optim: "adamw"', 'optim: "lamb"', r"train_cats_dogs\.yaml:{line}:\d+: train\.optim\.optim: "),
])
def test_mistakes_point_at_file_and_line(tao_specs: Path, tmp_path: Path, name: str, old: str, new: str,
                                         expected: str) -> None:
    path = _copy_with(tao_specs / name, tmp_path / name, old, new)
    with pytest.raises(SpecError, match=expected.replace("{line}", str(line_of(path, new)))):
        task_specs.load_file(TASK, path)


def test_overrides_use_the_source_format_keys(tao_specs: Path) -> None:
    spec = task_specs.load_file(TASK, tao_specs / "classification_spec.cfg",
                          overrides=["train_config.n_epochs=3", "model_config.n_layers=10"])
    assert spec.train.epochs == 3 and spec.model.num_layers == 10
    with pytest.raises(SpecError, match="override 'train.epochs=3'"):
        task_specs.load_file(TASK, tao_specs / "classification_spec.cfg", overrides=["train.epochs=3"])


def test_default_specs_are_valid_and_convert_round_trips(cli, tmp_path: Path) -> None:
    assert cli("classification", "default_specs", "-r", tmp_path).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.txt", "train.yaml"]
    for name in ("train.txt", "train.yaml"):
        check = cli("spec", "check", tmp_path / name, "--task", "classification_tf1")
        assert check.exit_code == 0, check.output
        assert "valid classification ClassificationSpec" in check.stdout
        out = tmp_path / f"{name}.converted.yaml"
        assert cli("spec", "convert", tmp_path / name, "-o", out, "--task", "classification").exit_code == 0
        assert task_specs.load_file(TASK, out) == task_specs.load_file(TASK, tmp_path / name)


def test_tf1_schedules_and_optimizers_map(tmp_path: Path) -> None:
    spec_path = tmp_path / "s.txt"
    spec_path.write_text('model_config { arch: "mobilenet_v2" input_image_size: "3,64,96" }\n'
                         'train_config { optimizer { adam { lr: 0.002 beta_1: 0.8 decay: 0.001 } }\n'
                         '  lr_config { soft_anneal { learning_rate: 0.01 soft_start: 0.1 annealing_points: 0.5 '
                         'annealing_points: 0.8 annealing_divider: 5 } }\n'
                         '  image_mean { key: "b" value: 100 } image_mean { key: "g" value: 110 } '
                         'image_mean { key: "r" value: 120 } disable_horizontal_flip: true\n'
                         '  enable_color_augmentation: true reg_config { type: "L1" scope: "Dense" weight_decay: 0.01 } }\n')
    spec = task_specs.load_file(TASK, spec_path)
    assert spec.input_hw == (64, 96) and spec.model.arch == "mobilenet_v2"
    o, s = spec.train.optimizer, spec.train.schedule
    assert (o.type, o.beta1, o.time_decay) == ("adam", 0.8, 0.001)
    assert (s.type, s.annealing_points, s.annealing_divider) == ("soft_anneal", [0.5, 0.8], 5.0)
    assert spec.data.mean == [100, 110, 120] and spec.augment.hflip_probability == 0.0
    assert spec.augment.color_probability == 1.0 and spec.augment.hue == pytest.approx(25 / 360)
    assert (spec.train.regularizer.type, spec.train.regularizer.scope) == ("l1", ["dense"])
    no_schedule = tmp_path / "c.txt"
    no_schedule.write_text("train_config { optimizer { rmsprop { lr: 0.003 } } }\n")
    spec = task_specs.load_file(TASK, no_schedule)
    assert (spec.train.schedule.type, spec.train.schedule.learning_rate) == ("constant", 0.003)
