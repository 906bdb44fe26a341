"""AutoML settings from the spec's automl_config and the flags; search spaces and their dependencies."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from taokit.actions.automl import settings_from
from taokit.automl.search import trials_wanted
from taokit.automl.space import Hyperparameter, adjust, parse_hyperparameter, suggest
from taokit.errors import UsageError
from taokit.spec import task_specs
from taokit.tasks.registry import get_task
from taokit_testing import DEMO_TRAIN_SPEC


def test_the_spec_block_and_flags(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.txt"
    spec_file.write_text(DEMO_TRAIN_SPEC.read_text() + '\nautoml_config { automl_algorithm: "hyperband" automl_R: 9 '
                         'automl_remove_hyperparameters: "training_config.regularizer.type" }\n')
    spec = task_specs.load_file(get_task("detectnet"), spec_file, "experiment", [])
    settings, add, remove = settings_from(spec, {})
    assert (settings.algorithm, settings.R, settings.nu) == ("hyperband", 9, 3)
    assert remove == ["training_config.regularizer.type"] and add == []
    settings, _, _ = settings_from(spec, {"automl_algorithm": "bayesian", "automl_R": None})
    assert settings.algorithm == "bayesian" and settings.R == 9  # a flag wins; an absent flag does not


def test_hyperband_brackets_as_tao_without_the_last() -> None:
    from taokit.automl.search import AutoMLSettings

    # R 27, nu 3: s_max 3; brackets s = 3, 2, 1 with ceil(4/(s+1) * 3^s) configurations: 27 + 12 + 6
    assert trials_wanted(AutoMLSettings(algorithm="hyperband", R=27, nu=3)) == 45
    assert trials_wanted(AutoMLSettings(max_recommendations=7)) == 7


def test_spaces_keep_their_dependencies() -> None:
    space = [Hyperparameter("a.max", "log", 1e-4, 1e-1), Hyperparameter("a.min", "log", 1e-6, 1e-2, below="a.max")]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        values = suggest(study.ask(), space)
        assert values["a.min"] < values["a.max"]
    assert parse_hyperparameter("model.dropout:float:0:0.5") == Hyperparameter("model.dropout", "float", 0.0, 0.5)
    assert parse_hyperparameter("opt:choice:sgd,adam").choices == ("sgd", "adam")
    assert [h.key for h in adjust(space, ["x:int:1:4"], ["a.min"])] == ["a.max", "x"]
    with pytest.raises(UsageError, match="not in the search space"):
        adjust(space, [], ["nope"])
    with pytest.raises(UsageError, match="need 0 < LOW < HIGH for log"):
        parse_hyperparameter("lr:log:0:1")
