"""automl: hyper-parameter search over training runs, with TAO's algorithms and outputs."""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taokit.automl.search import AutoMLSettings, SearchJob, search, trials_csv, trials_wanted
from taokit.automl.space import adjust
from taokit.engine.files import atomic_write_text
from taokit.engine.status import numeric, status_job
from taokit.errors import DataError, UsageError
from taokit.requests import Session
from taokit.results import Result, Table, TuningResult
from taokit.spec import task_specs
from taokit.tasks.registry import get_task

if TYPE_CHECKING:
    from taokit.tasks.base import Task

log = logging.getLogger("taokit.automl")


def settings_from(spec: Any, flags: dict[str, Any]) -> tuple[AutoMLSettings, list[str], list[str]]:
    """The spec's automl_config (TAO's names), with every flag given on the command line taking precedence."""
    from taokit.spec.automl_section import AutoMLConfig

    block = getattr(spec, "automl_config", None) or AutoMLConfig()

    def pick(name: str, value: Any) -> Any:
        return flags[name] if flags.get(name) is not None else value

    settings = AutoMLSettings(
        algorithm=pick("automl_algorithm", block.automl_algorithm),
        max_recommendations=pick("automl_max_recommendations", block.automl_max_recommendations),
        R=pick("automl_R", block.automl_R), nu=pick("automl_nu", block.automl_nu),
        epoch_multiplier=pick("epoch_multiplier", block.epoch_multiplier), metric=pick("metric", block.metric))
    if settings.algorithm not in ("bayesian", "hyperband"):
        raise UsageError(f"--automl_algorithm {settings.algorithm}: choose bayesian or hyperband")
    if settings.metric not in ("kpi", "loss"):
        raise UsageError(f"--metric {settings.metric}: choose kpi or loss")
    return (settings, list(pick("automl_add_hyperparameters", block.automl_add_hyperparameters)),
            list(pick("automl_remove_hyperparameters", block.automl_remove_hyperparameters)))


def run(task_name: str, spec_path: Path, session: Session, flags: dict[str, Any]) -> Result:
    task = get_task(task_name)
    task.require("automl")
    if session.results_dir is None:
        raise UsageError("automl needs -r/--results_dir: every trial's folder, the results and best_model/ go there")
    spec = task_specs.load_training(task, spec_path, session.overrides)
    settings, add, remove = settings_from(spec, flags)
    plan = task.automl_plan(spec)
    space = adjust(plan.space, add, remove)
    maximize = settings.metric != "loss"
    job = SearchJob(task_name, spec_path.resolve(), session.results_dir.resolve(), space,
                    plan.kpi if maximize else "loss", maximize, plan.epochs_key, plan.validation_keys,
                    list(session.overrides), {k: v for k, v in plan.baseline.items() if k in {h.key for h in space}})
    started = time.monotonic()
    out = job.results_dir
    with status_job(out, f"Starting {task.name} AutoML ({settings.algorithm}, {trials_wanted(settings)} trials)",
                    "AutoML finished") as outcome:
        study = search(job, settings, lambda s: _progress(s, job, settings, started))
        best = _best(study)
        lines = _write_outputs(task, study, job, settings, best, spec_path, session, started)
        outcome.kpi = numeric({f"best_{job.metric_key}": best.value, "trials": len(study.trials)})
    rows = [[t.number, t.state.name, t.value, *(t.params.get(h.key) for h in space)] for t in study.trials]
    table = Table(f"AutoML trials ({settings.algorithm}, metric {job.metric_key})",
                  ["id", "state", job.metric_key, *_labels([h.key for h in space])], rows)
    return Result(lines=lines, tables=[table], data={f"best_{job.metric_key}": best.value, "best_trial": best.number})


def _labels(keys: list[str]) -> list[str]:
    """Short column names: the last part of each key, with its parent where two would read the same."""
    short = [k.rsplit(".", 1)[-1] for k in keys]
    return [".".join(k.split(".")[-3::2]) if short.count(s) > 1 else s for k, s in zip(keys, short, strict=True)]


def _best(study: Any) -> Any:
    import optuna

    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        raise DataError("no trial finished: see the experiment_*/log.txt files in the results directory")
    return study.best_trial


def _progress(study: Any, job: SearchJob, settings: AutoMLSettings, started: float, quiet: bool = False) -> None:
    import optuna

    finished = [t for t in study.trials if t.state.is_finished() and not t.user_attrs.get("interrupted")]
    complete = [t for t in finished if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(complete, key=lambda t: t.value if job.maximize else -t.value) if complete else None
    epochs = sum(t.user_attrs.get("epochs", 0) for t in finished)
    seconds = sum(t.user_attrs.get("seconds", 0.0) for t in finished)
    left = max(trials_wanted(settings) - len(finished), 0)
    per_trial = seconds / max(len(finished), 1)
    if not quiet and finished:
        last = finished[-1]
        log.info("trial %d/%d %s%s; best %s", len(finished), trials_wanted(settings), last.state.name,
                 f" {job.metric_key} {last.value:.4f}" if last.value is not None else "",
                 f"{best.value:.4f} (trial {best.number})" if best else "none yet")
    atomic_write_text(job.results_dir / "automl_metadata.json", json.dumps({
        f"best_{job.metric_key}": best.value if best else None, "best_trial": best.number if best else None,
        "trials_done": len(finished), "trials_total": trials_wanted(settings),
        "time_per_epoch_s": round(seconds / max(epochs, 1), 2), "estimated_time_left_s": round(per_trial * left, 1),
        "elapsed_s": round(time.monotonic() - started, 1)}, indent=2) + "\n")
    atomic_write_text(job.results_dir / "automl_results.csv", trials_csv(study, job.space))


def _write_outputs(task: Task, study: Any, job: SearchJob, settings: AutoMLSettings, best: Any, spec_path: Path,
                   session: Session, started: float) -> list[str]:
    from taokit.spec.load import spec_format
    from taokit.spec.write import to_prototext, to_yaml

    out = job.results_dir
    _progress(study, job, settings, started, quiet=True)
    best_dir = out / "best_model"
    if best_dir.exists():
        shutil.rmtree(best_dir)
    best_dir.mkdir()
    trial_dir = out / f"experiment_{best.number:03d}"
    spec = task_specs.load_file(task, spec_path, None, [*session.overrides, *best.user_attrs.get("overrides", [])])
    name = spec_path.name if spec_format(spec_path) == "yaml" or task_specs.kind_of(task, spec) != "taokit" else "spec.yaml"
    writer = to_yaml if spec_format(Path(name)) == "yaml" else to_prototext
    atomic_write_text(best_dir / name, writer(spec))
    for item in ("weights", "status.json", "log.txt", "command.txt"):
        source = trial_dir / item
        if source.is_dir():
            shutil.copytree(source, best_dir / item)
        elif source.exists():
            shutil.copy2(source, best_dir / item)
    _plots(study, job, out)
    lines = [f"best {job.metric_key}: {best.value:.4f} (trial {best.number} of {len(study.trials)})",
             f"best model: {best_dir} (spec {name}, weights/)", f"all trials: {out / 'automl_results.csv'}",
             f"metadata: {out / 'automl_metadata.json'}"]
    if "tune_postprocess" in task.implemented:
        lines += _tune_best(task, best_dir / name, best_dir / "weights" / "model.pth", best_dir / "postprocess")
    return lines


def _tune_best(task: Task, spec: Path, model: Path, out: Path) -> list[str]:
    """A search ends with the post-processing search on its best model (no retraining), where the task has one."""
    from taokit.actions import tune_postprocess

    try:
        result = tune_postprocess.run(task.name, spec, model, replace(Session(), results_dir=out))
    except Exception as err:  # noqa: BLE001 - the search's own results stand even if this step fails
        log.warning("post-processing search on the best model failed: %s", str(err).splitlines()[0])
        return []
    if not isinstance(result, TuningResult):
        return []
    return [f"post-processing search on the best model: {result.metric} {result.before:.4f} -> "
            f"{result.after:.4f} ({out / 'spec.txt'})"]


def _plots(study: Any, job: SearchJob, out: Path) -> None:
    import optuna

    from taokit.engine.figures import new_figure, save_png

    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    fig, ax = new_figure((6, 4))
    ax.plot([t.number for t in complete], [t.value for t in complete], "o-")
    ax.set_xlabel("trial")
    ax.set_ylabel(job.metric_key)
    ax.set_title("metric per trial")
    save_png(fig, out / "metric_per_trial.png")
    if len(complete) >= 2:
        import warnings

        try:
            with warnings.catch_warnings():  # few trials: optuna warns that importances are rough, as they are
                warnings.simplefilter("ignore")
                importance = optuna.importance.get_param_importances(study)
        except (RuntimeError, ValueError):
            return
        fig, ax = new_figure((6, 4))
        names = list(importance)
        ax.barh([n.rsplit(".", 1)[-1] for n in names], [importance[n] for n in names])
        ax.set_xlabel("importance (fANOVA)")
        save_png(fig, out / "parameter_importance.png")
