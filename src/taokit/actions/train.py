"""train: fit a task's model from its experiment spec, in-process or under torchrun for several GPUs."""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taokit.errors import TaokitError, UsageError
from taokit.launch.torchrun import NodeOptions, check_gpus, inside_torchrun, run_under_torchrun
from taokit.requests import Session
from taokit.results import Result
from taokit.spec import task_specs
from taokit.tasks.base import Task
from taokit.tasks.registry import get_task

if TYPE_CHECKING:
    from taokit.engine.status import JobOutcome
    from taokit.spec.base import SpecModel

log = logging.getLogger("taokit.train")

__all__ = ["NodeOptions", "run"]


def run(task_name: str, spec_path: Path, session: Session, *, model_name: str = "model",
        enable_determinism: bool = False, strict: bool = False, nodes: NodeOptions = NodeOptions()) -> Result:
    task = get_task(task_name)
    task.require("train")
    spec = task_specs.load_training(task, spec_path, session.overrides)
    if session.results_dir is None:
        raise UsageError("train needs -r/--results_dir: the directory for checkpoints, weights and logs")
    if (session.gpus > 1 or nodes.distributed) and not inside_torchrun():
        check_gpus(session.gpus)
        argv = _child_argv(task_name, spec_path, session, model_name, enable_determinism, strict)
        code = run_under_torchrun(argv, max(session.gpus, 1), nodes, session.gpu_index)
        if code != 0:
            raise TaokitError(f"distributed training failed (torchrun exit code {code}); see the log above")
        return Result(lines=[f"weights: {session.results_dir / 'weights' / (model_name + '.pth')}"])
    return _train_here(task, spec, session, session.results_dir, model_name, enable_determinism, strict)


def _child_argv(task_name: str, spec_path: Path, session: Session, model_name: str, determinism: bool,
                strict: bool) -> list[str]:
    argv = [task_name, "train", "-e", str(spec_path), "-r", str(session.results_dir), "-n", model_name]
    argv += ["--use_amp"] * session.use_amp + ["--enable_determinism"] * determinism + ["--strict"] * strict
    argv += ["-v"] * session.verbose + ["--gpus", "0"] * (session.gpus == 0)
    return argv + list(session.overrides)


def _seed(seed: int, rank: int, deterministic: bool) -> None:
    import numpy as np
    import torch

    random.seed(seed + rank)
    np.random.seed((seed + rank) % 2**32)
    torch.manual_seed(seed)  # the same initial weights on every rank
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def _record_sources(results_dir: Path, outcome: JobOutcome, is_main: bool) -> None:
    """The models the spec named by source (ngc://, torchvision://, https://): file and hash, for the record."""
    from taokit.engine.run_dir import record_sources
    from taokit.hub.sources import resolved

    fetched = resolved()
    if fetched and is_main:
        record_sources(results_dir, fetched)
        outcome.categorical["sources"] = {r["source"]: r["sha256"] for r in fetched}
        for r in fetched:
            log.info("%s: %s (sha256 %s)", r["source"], r["path"], r["sha256"])


def _train_here(task: Task[Any], spec: SpecModel, session: Session, results_dir: Path, model_name: str,
                deterministic: bool, strict: bool) -> Result:
    from taokit.engine import distributed as dist
    from taokit.engine.fit import FitOutputs, TrainEnv, fit
    from taokit.engine.run_dir import claim_results_dir
    from taokit.engine.status import status_job
    from taokit.runtime.devices import pick_device

    info = dist.dist_info()
    device = pick_device("cpu" if session.gpus == 0 else None, gpu_index=session.gpu_index,
                         local_rank=info.local_rank if info.enabled else None)
    dist.init_process_group(info, device)
    if session.use_amp and device.type != "cuda":
        log.info("--use_amp has no effect on %s: mixed precision needs a CUDA GPU; training in float32", device)
    record = task_specs.record(task, spec)
    from taokit.engine.run_dir import ResultsDirLock

    lock = ResultsDirLock(results_dir) if info.is_main else None
    try:
        with status_job(results_dir, f"Starting {task.name} training on {device}", "Training finished successfully",
                        enabled=info.is_main) as outcome:
            if info.is_main:
                experiment, resumable = task_specs.experiment_record(task, spec)
                claim_results_dir(results_dir, experiment, resumable,
                                  has_checkpoints=any((results_dir / "checkpoints").glob("epoch_*.pth")),
                                  spec_record=record)
            dist.barrier()
            _seed(task_specs.seed_of(spec), info.rank, deterministic)
            env = TrainEnv(device, info, session.use_amp, strict, deterministic, results_dir)
            setup = task.build_training(spec, env)
            _record_sources(results_dir, outcome, info.is_main)
            for warning in setup.warnings:
                log.warning(warning)
            result = fit(setup.parts, setup.config, FitOutputs(results_dir, model_name, info, {"spec": record}),
                         device)
            outcome.kpi = {**result.final_metrics, "images_per_s": round(result.images_per_s, 2),
                           "epochs": result.epochs_run}
    finally:
        dist.destroy_process_group()
        if lock is not None:
            lock.release()
    lines = [f"weights: {result.model_path}"]
    if result.best_path is not None and result.best_metric is not None:
        lines.append(f"best weights (epoch {result.best_epoch}, {result.monitor} {result.best_metric:.4f}): "
                     f"{result.best_path}")
    lines += [f"checkpoints: {results_dir / 'checkpoints'}", f"status: {results_dir / 'status.json'}",
              f"tensorboard: {results_dir / 'events'}"]
    return Result(lines=lines, data={"metrics": result.final_metrics})
