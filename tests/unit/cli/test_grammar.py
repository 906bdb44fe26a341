"""TAO's command grammar: groups, aliases, multi-value flags, and global flags after the action."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from taokit.cli.grammar import expand_multi_value_flags


def test_multi_value_flags_are_expanded() -> None:
    assert expand_multi_value_flags(["train", "--gpu_index", "0", "1", "-e", "s.txt", "a.b=1"]) == [
        "train", "--gpu_index", "0", "--gpu_index", "1", "-e", "s.txt", "a.b=1"]
    assert expand_multi_value_flags(["-el", "conv1", "conv2", "--gpus", "2"]) == [
        "-el", "conv1", "-el", "conv2", "--gpus", "2"]


def test_help_does_not_import_torch() -> None:
    code = ("import sys\nfrom taokit.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'onnxruntime', 'onnx', 'tensorrt', 'docker') if m in sys.modules]\n"
            "print('HEAVY', heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
    assert "detectnet" in out and "classification" in out


@pytest.mark.parametrize("prefix", [["detectnet"], ["detectnet_v2"], ["model", "detectnet_v2"], ["model", "detectnet"]])
def test_every_grammar_reaches_the_same_train_action(cli, prefix: list[str]) -> None:
    result = cli(*prefix, "train", "--help")
    assert result.exit_code == 0
    assert "--experiment_spec_file" in result.stdout and "--use_amp" in result.stdout
    assert "--log_file" in result.stdout and "--gpu_index" in result.stdout


def test_deploy_group_has_engine_side_actions_only(cli) -> None:
    result = cli("deploy", "detectnet_v2", "--help")
    assert result.exit_code == 0
    for action in ("gen_trt_engine", "evaluate", "inference"):
        assert action in result.stdout
    assert " train " not in result.stdout
    assert cli("deploy", "detectnet", "train", "--help").exit_code != 0


def test_classification_aliases(cli) -> None:
    for alias in ("classification_tf1", "classification_pyt", "classification"):
        assert cli(alias, "export", "--help").exit_code == 0


def test_version(cli) -> None:
    from taokit import __version__

    result = cli("--version")
    assert result.exit_code == 0 and __version__ in result.stdout


def test_info_works_without_gpu(cli) -> None:
    result = cli("info")
    assert result.exit_code == 0
    for word in ("taokit", "torch:", "onnxruntime:", "CPUExecutionProvider", "tensorrt:", "docker:"):
        assert word in result.stdout


def test_unbuilt_action_exits_2_with_one_line(cli, tmp_path: Path) -> None:
    result = cli("classification", "dataset_convert", "-d", tmp_path / "x.yaml", "-o", tmp_path / "shards")
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: 'dataset_convert' is not available yet for the "
                                            "classification task")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_key_is_accepted_and_log_file_tees_output(cli, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "run.log"
    result = cli("detectnet", "default_specs", "-r", tmp_path / "specs", "-k", "tlt_encode", "--log_file", log)
    assert result.exit_code == 0
    text = log.read_text()
    assert "wrote" in text and "wrote" in result.stdout


def test_default_specs_refuses_to_overwrite(cli, tmp_path: Path) -> None:
    assert cli("detectnet", "default_specs", "-r", tmp_path).exit_code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["dashcamnet.txt", "dataset_convert.txt", "inference.txt", "lpdnet.txt", "peoplenet.txt",
                     "retrain.txt", "trafficcamnet.txt", "train.txt"]
    again = cli("detectnet", "default_specs", "-r", tmp_path)
    assert again.exit_code == 2 and "already exists" in again.stderr
    for name in names:
        check = cli("spec", "check", tmp_path / name, "--task", "detectnet")
        assert check.exit_code == 0, check.output
