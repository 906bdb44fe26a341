"""Builds one Typer app per task with TAO's action verbs; the same app serves every alias and group."""

from __future__ import annotations

import typer

from taokit.cli.commands import (
    automl,
    benchmark,
    dataset_convert,
    default_specs,
    evaluate,
    export,
    gen_trt_engine,
    import_model,
    inference,
    prune,
    train,
    tune_postprocess,
)

_REGISTRARS = {
    "dataset_convert": dataset_convert.register,
    "train": train.register,
    "evaluate": evaluate.register,
    "inference": inference.register,
    "prune": prune.register,
    "export": export.register,
    "gen_trt_engine": gen_trt_engine.register,
    "default_specs": default_specs.register,
    "benchmark": benchmark.register,
    "tune_postprocess": tune_postprocess.register,
    "automl": automl.register,
    "import": import_model.register,
}


def make_task_app(task: str, actions: tuple[str, ...] | None = None, about: str = "") -> typer.Typer:
    """A Typer app for `task` with the given action verbs (all of them by default)."""
    app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                      help=about or f"Actions of the {task} task.")
    for action in actions or tuple(_REGISTRARS):
        _REGISTRARS[action](app, task)
    return app
