"""`tao spec check` and `tao spec convert` from the command line."""

from __future__ import annotations

from pathlib import Path

from taokit.spec import load_spec
from taokit.tasks.detectnet.spec import DetectNetExperiment


def test_check_prints_resolved_config_with_overrides(cli, tao_specs: Path) -> None:
    spec = tao_specs / "detectnet_v2_train_resnet18_kitti.txt"
    result = cli("spec", "check", spec, "--task", "detectnet", "training_config.num_epochs=3")
    assert result.exit_code == 0, result.output
    assert "valid detectnet DetectNetExperiment" in result.stdout
    assert "num_epochs: 3" in result.stdout
    assert "n_workers: 2" in result.stdout  # defaults are shown too


def test_convert_text_to_yaml_and_back(cli, tao_specs: Path, tmp_path: Path) -> None:
    spec = tao_specs / "detectnet_v2_train_resnet18_kitti.txt"
    yaml_out, txt_out = tmp_path / "s.yaml", tmp_path / "s.txt"
    assert cli("spec", "convert", spec, "-o", yaml_out, "--task", "detectnet_v2").exit_code == 0
    assert cli("spec", "convert", yaml_out, "-o", txt_out, "--task", "detectnet").exit_code == 0
    original = load_spec(spec, DetectNetExperiment)
    assert load_spec(yaml_out, DetectNetExperiment) == original
    assert load_spec(txt_out, DetectNetExperiment) == original
    again = cli("spec", "convert", spec, "-o", yaml_out, "--task", "detectnet")
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_check_needs_a_task(cli, tao_specs: Path) -> None:
    result = cli("spec", "check", tao_specs / "detectnet_v2_train_resnet18_kitti.txt")
    assert result.exit_code == 2 and "--task" in result.stderr


def test_bad_override_is_one_line(cli, tao_specs: Path) -> None:
    result = cli("spec", "check", tao_specs / "detectnet_v2_train_resnet18_kitti.txt", "--task", "detectnet",
                 "training_config.bach_size_per_gpu=3")
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: override 'training_config.bach_size_per_gpu=3': training_config: "
                                     "unknown field 'bach_size_per_gpu' (did you mean 'batch_size_per_gpu'?)")


def test_check_names_the_taokit_extensions_a_spec_sets(cli, tao_specs: Path) -> None:
    spec = tao_specs / "detectnet_v2_train_resnet18_kitti.txt"
    plain = cli("spec", "check", spec, "--task", "detectnet")
    assert plain.exit_code == 0 and "taokit extensions" not in plain.stdout  # TAO's own spec sets none
    result = cli("spec", "check", spec, "--task", "detectnet", "model_config.output_stride=8",
                 "augmentation_config.spatial_augmentation.mosaic_probability=1.0", "training_config.ema_decay=0.999")
    assert result.exit_code == 0, result.output
    header = result.stdout.split("random_seed")[0]
    for key in ("model_config.output_stride", "spatial_augmentation.mosaic_probability", "training_config.ema_decay"):
        assert key in header
    assert "output_stride: 8" in result.stdout
