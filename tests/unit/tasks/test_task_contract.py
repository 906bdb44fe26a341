"""The Task contract: what a task supports is read off its overrides, and the CLI says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taokit.errors import NotAvailableYet
from taokit.requests import EvaluateRequest
from taokit.results import EvaluationResult
from taokit.tasks.base import ACTION_METHODS, EXTRA_ACTION_METHODS, Task
from taokit.tasks.registry import TASKS, aliases, canonical, get_task


class OnlyEvaluates(Task[Any]):
    name = "toy"

    def evaluate(self, spec, request: EvaluateRequest) -> EvaluationResult:  # noqa: ANN001
        return EvaluationResult(metrics={"score": 1.0})


def test_implemented_is_read_off_the_overrides() -> None:
    task = OnlyEvaluates()
    assert task.implemented == frozenset({"evaluate"})
    task.require("evaluate")
    with pytest.raises(NotAvailableYet, match=r"'train' is not available yet for the toy task \(available: evaluate\)"):
        task.require("train")
    with pytest.raises(NotAvailableYet, match="export is not available yet for the toy task"):
        task.export_plan(Path("m.pth"), None)


class OnlyExports(Task[Any]):
    name = "toy"

    def export_plan(self, model_path: Path, spec) -> Any:  # noqa: ANN001
        raise AssertionError("not called")


def test_an_onnx_export_is_all_gen_trt_engine_needs_and_int8_says_what_is_missing() -> None:
    task = OnlyExports()
    assert task.implemented == frozenset({"export", "gen_trt_engine"})
    with pytest.raises(NotAvailableYet, match="INT8 calibration is not available yet for the toy task"):
        task.calibration_source(None, (3, 8, 8))


def test_every_registered_task_names_itself_and_its_aliases() -> None:
    for name in TASKS:
        task = get_task(name)
        assert task.name == name and task.summary
        assert task.implemented <= {*ACTION_METHODS, *EXTRA_ACTION_METHODS, "default_specs"}
    assert canonical("detectnet_v2") == "detectnet" and aliases()["classification_pyt"] == "classification"
    assert get_task("detectnet_v2") is get_task("detectnet")


def test_help_and_info_say_which_tasks_are_complete(cli) -> None:
    info = cli("info").stdout
    assert "task detectnet (also detectnet_v2): [complete]" in info
    assert "task classification (also classification_tf1, classification_pyt): [not yet: dataset_convert]" in info
    assert "[complete]" in cli("--help").stdout
