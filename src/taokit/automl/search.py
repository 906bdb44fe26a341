"""The search: every trial is a normal `tao <task> train` in a subprocess, with its own results folder.

Bayesian: Optuna's TPE sampler, one trial after another, the spec's own values first. Hyperband: Optuna's
Hyperband pruner fed each epoch's validation metric (read from the trial's status.json while it trains);
a pruned trial is stopped. A trial that fails is recorded as failed and the search goes on. The study
lives in a journal file in the results folder, so running the same command again resumes it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taokit.automl.space import Hyperparameter, overrides, suggest
from taokit.engine.files import atomic_write_text, csv_text
from taokit.engine.progress import Progress

log = logging.getLogger("taokit.automl")
JOURNAL = "automl_journal.log"


@dataclass(frozen=True)
class AutoMLSettings:
    algorithm: str = "bayesian"  # bayesian or hyperband
    max_recommendations: int = 20  # Bayesian: trials in all
    R: int = 27  # Hyperband: the most epochs a trial gets (x epoch_multiplier)
    nu: int = 3  # Hyperband: the reduction factor
    epoch_multiplier: int = 1
    metric: str = "kpi"  # the task's KPI, or "loss"
    seed: int = 42


@dataclass
class SearchJob:
    """What the search needs from the action: how to start a trial and what to read from it."""

    task: str
    spec: Path
    results_dir: Path
    space: list[Hyperparameter]
    metric_key: str  # status.json KPI name
    maximize: bool
    epochs_key: str  # the spec key of the number of epochs
    validation_keys: list[str]  # keys that make a trial validate every epoch (Hyperband)
    base_overrides: list[str] = field(default_factory=list)
    baseline: dict[str, Any] = field(default_factory=dict)  # the spec's own values: the first trial


def _trial_dir(job: SearchJob, number: int) -> Path:
    return job.results_dir / f"experiment_{number:03d}"


def _command(job: SearchJob, number: int, values: dict[str, Any], epochs: int | None, every_epoch: bool) -> list[str]:
    extra = [*([f"{job.epochs_key}={epochs}"] if epochs else []), *(f"{k}=1" for k in job.validation_keys if every_epoch)]
    return [sys.executable, "-m", "taokit", job.task, "train", "-e", str(job.spec), "-r", str(_trial_dir(job, number)),
            *job.base_overrides, *overrides(values), *extra]


def _epoch_metrics(status: Path, key: str) -> dict[int, float]:
    if not status.is_file():
        return {}
    out = {}
    for line in status.read_text(encoding="utf-8").splitlines():
        try:
            kpi = json.loads(line).get("kpi") or {}
        except json.JSONDecodeError:
            continue  # a line being written
        if "epoch" in kpi and kpi.get(key) is not None:
            out[int(kpi["epoch"])] = float(kpi[key])
    return out


def run_trial(job: SearchJob, trial: Any, settings: AutoMLSettings, prune: bool) -> float:
    """Train one recommendation; report its metric per epoch (Hyperband may stop it); its final metric."""
    import optuna

    values = suggest(trial, job.space)
    epochs = settings.R * settings.epoch_multiplier if settings.algorithm == "hyperband" else None
    command = _command(job, trial.number, values, epochs, every_epoch=prune)
    folder = _trial_dir(job, trial.number)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    proc: subprocess.Popen[bytes] | None = None
    reported: set[int] = set()
    # Everything from the trial's first file on is inside the try: a Ctrl-C while the trial is being set up
    # (a slow machine's window is wider) must mark it interrupted, so that a rerun redoes it.
    try:
        atomic_write_text(folder / "command.txt", " ".join(command[2:]) + "\n")
        trial.set_user_attr("overrides", overrides(values))
        with open(folder / "log.txt", "w", encoding="utf-8") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                    env=dict(os.environ, TAOKIT_PLAIN="1"))
            while proc.poll() is None:
                time.sleep(0.5)
                if prune and _report(trial, folder, job, reported):
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=60)
                    raise optuna.TrialPruned()
    except BaseException as err:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if isinstance(err, KeyboardInterrupt):  # Optuna records it as FAIL: a rerun must redo it
            trial.set_user_attr("interrupted", True)
        raise
    trial.set_user_attr("seconds", time.monotonic() - started)
    metrics = _epoch_metrics(folder / "status.json", job.metric_key)
    trial.set_user_attr("epochs", max(metrics, default=0))
    if proc.returncode != 0 or not metrics:
        tail = (folder / "log.txt").read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        raise TrialFailed(f"trial {trial.number} failed (exit {proc.returncode}): {tail[0] if tail else ''}")
    if prune:
        _report(trial, folder, job, reported)
    return metrics[max(metrics)]


class TrialFailed(Exception):
    """A trial's training exited with an error; the search records it and goes on."""


def _report(trial: Any, folder: Path, job: SearchJob, reported: set[int]) -> bool:
    for epoch, value in sorted(_epoch_metrics(folder / "status.json", job.metric_key).items()):
        if epoch not in reported:
            reported.add(epoch)
            trial.report(value, epoch)
            if trial.should_prune():
                return True
    return False


def make_study(job: SearchJob, settings: AutoMLSettings) -> Any:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # taokit logs failed trials itself, in one line
    storage = JournalStorage(JournalFileBackend(str(job.results_dir / JOURNAL)))
    if settings.algorithm == "hyperband":
        sampler: Any = optuna.samplers.RandomSampler(seed=settings.seed)  # TAO's Hyperband samples uniformly
        pruner: Any = optuna.pruners.HyperbandPruner(min_resource=settings.epoch_multiplier,
                                                     max_resource=settings.R * settings.epoch_multiplier,
                                                     reduction_factor=settings.nu)
    else:
        sampler, pruner = optuna.samplers.TPESampler(seed=settings.seed), optuna.pruners.NopPruner()
    study = optuna.create_study(storage=storage, study_name="taokit", sampler=sampler, pruner=pruner,
                                direction="maximize" if job.maximize else "minimize", load_if_exists=True)
    if not study.trials and job.baseline:
        study.enqueue_trial(job.baseline, skip_if_exists=True)
    return study


def trials_wanted(settings: AutoMLSettings) -> int:
    """Bayesian: max_recommendations; Hyperband: the configurations of its brackets (the last omitted, as TAO)."""
    if settings.algorithm != "hyperband":
        return settings.max_recommendations
    s_max = int(math.log(settings.R) / math.log(settings.nu) + 1e-9)
    return sum(math.ceil((s_max + 1) / (s + 1) * settings.nu ** s) for s in range(1, s_max + 1)) or 1


def search(job: SearchJob, settings: AutoMLSettings, on_trial: Callable[[Any], None]) -> Any:
    """Run (or resume) the study until it holds `trials_wanted` finished trials; returns the study."""

    job.results_dir.mkdir(parents=True, exist_ok=True)
    study = make_study(job, settings)
    done = [t for t in study.trials if t.state.is_finished() and not t.user_attrs.get("interrupted")]
    if done:
        log.info("resuming the search in %s: %d trial(s) already done", job.results_dir, len(done))
    remaining = max(trials_wanted(settings) - len(done), 0)
    prune = settings.algorithm == "hyperband"

    def objective(trial: Any) -> float:
        try:
            return run_trial(job, trial, settings, prune)
        except TrialFailed as err:
            log.warning("%s", err)
            raise

    bar = Progress(remaining, "automl trials", log_every_s=math.inf)  # plain mode: on_trial logs each trial
    for _ in bar(range(remaining)):  # one trial per call, so a terminal shows a bar with the best so far
        study.optimize(objective, n_trials=1, catch=(TrialFailed,), callbacks=[lambda s, t: on_trial(s)],
                       gc_after_trial=True)
        if any(t.value is not None for t in study.trials):  # best_value needs a completed trial
            bar.postfix = f"best {job.metric_key} {study.best_value:.4f}"
    return study


def trials_csv(study: Any, space: list[Hyperparameter]) -> str:
    keys = [h.key for h in space]
    rows: list[list[object]] = [["id", "state", "metric", "epochs", "seconds", *keys]]
    for t in study.trials:
        state = "INTERRUPTED" if t.user_attrs.get("interrupted") else t.state.name
        rows.append([t.number, state, "" if t.value is None else f"{t.value:.6g}", t.user_attrs.get("epochs", ""),
                     f"{t.user_attrs.get('seconds', 0):.1f}", *(t.params.get(k, "") for k in keys)])
    return csv_text(rows)
