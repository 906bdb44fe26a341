"""Spec fuzzing: mutated real TAO specs (text and YAML), random YAML and random overrides give a spec or a
one-line TaokitError naming where it is wrong — never another exception, never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taokit.errors import TaokitError
from taokit.spec import task_specs
from taokit.tasks.registry import get_task
from taokit_testing import OWN_TAO_SPECS, REPO, tao_spec_folders

SEED_FILES = [("detectnet", "detectnet_v2_train_resnet18_kitti.txt"), ("detectnet", "detectnet_v2_inference_kitti_tlt.txt"),
              ("detectnet", "detectnet_v2_tfrecords_kitti_trainval.txt"), ("classification", "classification_spec.cfg"),
              ("classification", "train_cats_dogs.yaml"), ("lanenet", "lanenet_train_spec.txt")]
SEEDS = [  # (task, spec file): every TAO spec we hold (ours, and NVIDIA's where ../shared exists), our lanenet spec
    *((task, folder / name) for folder in tao_spec_folders() for task, name in SEED_FILES),
    ("lanenet", REPO / "specs" / "lanenet" / "train.txt"),
]
FRAGMENTS = ["{", "}", ":", '"', "'", "\n", " ", "[", "]", ",", "#", "\\", "nan", "-inf", "1e999", "-1", "0x1F",
             "true", "é", "\x00", "unknown_key: 1", "- ", "&a", "*a", "!!python/object:os.system", "{{{{", "€"]
SLOW = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_texts = {path: path.read_text(encoding="utf-8") for _, path in SEEDS}
_tmp = Path(tempfile.mkdtemp(prefix="spec_fuzz_"))


def _load(task: str, suffix: str, text: str, overrides: list[str] | None = None) -> None:
    path = _tmp / f"spec{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        task_specs.load_file(get_task(task), path, None, overrides)
    except TaokitError as err:
        message = str(err)
        assert message and "\n" not in message.strip() and "Traceback" not in message


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str, str]:
    task, path = draw(st.sampled_from(SEEDS))
    text = _texts[path]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "duplicate", "replace"]))
        if kind == "insert":
            text = text[:at] + draw(st.sampled_from(FRAGMENTS) | st.text(max_size=6)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif kind == "duplicate":
            end = min(len(text), at + draw(st.integers(1, 80)))
            text = text[:end] + text[at:end] + text[end:]
        else:  # a value of a line becomes something else
            lines = text.splitlines()
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                key = lines[i].split(":")[0]
                lines[i] = f"{key}: {draw(st.sampled_from(FRAGMENTS) | st.text(max_size=8))}"
                text = "\n".join(lines)
    return task, path.suffix, text


@pytest.mark.parametrize("task, path", SEEDS, ids=[f"{p.parent.parent.name}/{p.name}" for _, p in SEEDS])
def test_the_seed_specs_load(task: str, path: Path) -> None:
    task_specs.load_file(get_task(task), path)  # else the fuzzing below would only exercise error paths


@SLOW
@given(case=mutated())
def test_mutated_specs_load_or_fail_in_one_line(case: tuple[str, str, str]) -> None:
    _load(*case)


YAML_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(), st.text(max_size=12))
YAML_TREES = st.recursive(YAML_SCALARS, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.sampled_from(["model", "train", "dataset", "epochs", "lr", "x",
                                                             "num_epochs", "batch_size", "model_config", "1"]),
                                            inner, max_size=4), max_leaves=20)


@SLOW
@given(tree=YAML_TREES, task=st.sampled_from(["detectnet", "classification", "lanenet"]))
def test_random_yaml_loads_or_fails_in_one_line(tree: object, task: str) -> None:
    import yaml

    _load(task, ".yaml", yaml.safe_dump(tree, allow_unicode=True))


OVERRIDE_KEYS = st.sampled_from(["training_config.num_epochs", "training_config.batch_size_per_gpu",
                                 "dataset_config.data_sources[0].image_directory_path", "dataset_config.data_sources[9]",
                                 "model_config.arch", "cost_function_config.target_classes[0].name",
                                 "training_config.learning_rate.soft_start_annealing_schedule.min_learning_rate",
                                 "no_such_section.key", "training_config", "a..b", "[0]", "", "x[-1]", "x[999999999999]"])


@SLOW
@given(overrides=st.lists(st.tuples(OVERRIDE_KEYS | st.text(max_size=20), st.sampled_from(FRAGMENTS)
                                    | st.text(max_size=10)).map("=".join) | st.text(max_size=20), max_size=4))
def test_random_overrides_apply_or_fail_in_one_line(overrides: list[str]) -> None:
    _load("detectnet", ".txt", _texts[SEEDS[0][1]], overrides)


def test_a_key_written_in_a_spec_is_not_recorded_with_the_model(tmp_path: Path) -> None:
    """TAO's PyTorch specs carry `encryption_key`; what model files, ONNX metadata and experiment.yaml
    record is the typed config, which has no place for it."""
    spec = tmp_path / "train.yaml"
    spec.write_text(_texts[OWN_TAO_SPECS / "train_cats_dogs.yaml"].replace("tlt_encode", "MY_S3CRET_key"))
    task = get_task("classification")
    record = task_specs.record(task, task_specs.load_file(task, spec))
    assert "MY_S3CRET_key" not in str(record) and "MY_S3CRET_key" in spec.read_text()
