"""The training loop every task uses: epochs, AMP, DDP, checkpoints, resume, validation, best model.

A task hands over a `FitParts` (model, data, loss, schedule, validation); this module knows nothing
about what is being trained.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from taokit.engine import checkpoint as ckpt
from taokit.engine.distributed import DistInfo, all_reduce_sum, barrier
from taokit.engine.progress import Progress
from taokit.engine.schedules import Schedule
from taokit.engine.status import RUNNING, StatusFile
from taokit.engine.tensorboard import EventWriter
from taokit.errors import TaokitError

log = logging.getLogger("taokit.train")


@dataclass
class FitParts:
    """What to train. `compute_loss(model, batch)` moves the batch to the device itself."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    make_loader: Callable[[int], Any]  # epoch -> iterable of batches (seeded by epoch for resume)
    steps_per_epoch: int
    compute_loss: Callable[[nn.Module, Any], tuple[torch.Tensor, dict[str, torch.Tensor]]]
    model_payload: Callable[[nn.Module], dict[str, Any]]  # the model file minus the header
    validate: Callable[[nn.Module], dict[str, float]] | None = None
    monitor: str = "mAP"
    regularization: Callable[[nn.Module], torch.Tensor] | None = None
    on_epoch_end: list[Callable[[], None]] = field(default_factory=list)
    stateful: dict[str, Any] = field(default_factory=dict)  # objects with state_dict/load_state_dict
    set_train_mode: Callable[[nn.Module], None] = lambda m: m.train()
    preview: Callable[[nn.Module], torch.Tensor | None] | None = None  # (N,3,H,W) images for TensorBoard
    batch_size: int = 1
    epoch_loggers: list[Callable[[int, dict[str, Any]], None]] = field(default_factory=list)  # (epoch, kpi), main


@dataclass(frozen=True)
class TrainEnv:
    """Where and how a task's training runs, decided by the train action."""

    device: torch.device
    dist: DistInfo = DistInfo()
    use_amp: bool = False
    strict: bool = False
    deterministic: bool = False
    results_dir: Path | None = None


@dataclass(frozen=True)
class FitConfig:
    epochs: int
    checkpoint_interval: int
    first_validation_epoch: int
    validation_period: int
    use_amp: bool = False
    log_every_steps: int = 20


@dataclass
class FitOutputs:
    results_dir: Path
    model_name: str
    dist: DistInfo = DistInfo()

    @property
    def checkpoints(self) -> Path:
        return self.results_dir / "checkpoints"

    @property
    def model_path(self) -> Path:
        return self.results_dir / "weights" / f"{self.model_name}.pth"

    @property
    def best_path(self) -> Path:
        return self.results_dir / "weights" / f"{self.model_name}_best.pth"


@dataclass
class FitResult:
    epochs_run: int
    final_metrics: dict[str, float]
    best_metric: float | None
    best_epoch: int | None
    images_per_s: float
    model_path: Path
    best_path: Path | None
    monitor: str = "mAP"


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


class _Loop:
    def __init__(self, parts: FitParts, config: FitConfig, out: FitOutputs, device: torch.device) -> None:
        self.parts, self.config, self.out, self.device = parts, config, out, device
        self.main = out.dist.is_main
        self.status = StatusFile(out.results_dir, enabled=self.main)
        self.events = EventWriter(out.results_dir / "events" if self.main else None)
        self.amp = config.use_amp and device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.model = parts.model
        if out.dist.enabled:
            ids = [device.index] if device.type == "cuda" else None
            self.model = nn.parallel.DistributedDataParallel(parts.model, device_ids=ids)
        self.start_epoch, self.best, self.best_epoch = 1, -math.inf, None
        self.total_steps = parts.steps_per_epoch * config.epochs

    def resume(self) -> None:
        latest = ckpt.find_latest_checkpoint(self.out.checkpoints)
        if latest is None:
            return
        state = ckpt.load_file(latest)
        _unwrap(self.model).load_state_dict(state["model"])
        self.parts.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.parts.schedule.load_state_dict(state["schedule"])
        for name, obj in self.parts.stateful.items():
            obj.load_state_dict(state["stateful"][name])
        self.start_epoch = int(state["epoch"]) + 1
        self.best = float(state["best"]) if state["best"] is not None else -math.inf
        self.best_epoch = state["best_epoch"]
        torch.set_rng_state(state["rng"])
        log.info("resuming from %s (epoch %d done)", latest, state["epoch"])

    def save_checkpoint(self, epoch: int) -> None:
        if not self.main:
            return
        state = {
            "epoch": epoch, "model": _unwrap(self.model).state_dict(),
            "optimizer": self.parts.optimizer.state_dict(), "scaler": self.scaler.state_dict(),
            "schedule": self.parts.schedule.state_dict(),
            "stateful": {k: v.state_dict() for k, v in self.parts.stateful.items()},
            "best": None if self.best == -math.inf else self.best, "best_epoch": self.best_epoch,
            "rng": torch.get_rng_state(),
        }
        ckpt.save_file(self.out.checkpoints / f"epoch_{epoch:03d}.pth", state, kind="checkpoint")

    def train_epoch(self, epoch: int) -> tuple[float, float]:
        parts, model = self.parts, self.model
        parts.set_train_mode(_unwrap(model))
        step = (epoch - 1) * parts.steps_per_epoch
        loss_sum = torch.zeros((), device=self.device)
        progress = Progress(parts.steps_per_epoch, f"epoch {epoch}/{self.config.epochs}", enabled=self.main)
        seen, start = 0, time.perf_counter()
        for i, batch in enumerate(progress(parts.make_loader(epoch))):
            lr = parts.schedule.lr(step, parts.steps_per_epoch, self.total_steps)
            for group in parts.optimizer.param_groups:
                group["lr"] = lr * group.get("lr_scale", 1.0)
            with torch.autocast(self.device.type, enabled=self.amp):
                loss, logs = parts.compute_loss(model, batch)
            if parts.regularization is not None:
                loss = loss + parts.regularization(_unwrap(model))
            parts.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(parts.optimizer)
            self.scaler.update()
            loss_sum += loss.detach()
            seen += parts.batch_size
            step += 1
            if self.main and (i + 1) % self.config.log_every_steps == 0:
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise TaokitError(f"the loss became {value} at epoch {epoch}, step {i + 1}; lower the "
                                      "learning rate (training_config.learning_rate) or check the labels")
                progress.postfix = f"loss {value:.4f} lr {lr:.2e}"
                self.events.scalars({"loss": value, "lr": lr, **{k: float(v) for k, v in logs.items()}}, step)
        elapsed = time.perf_counter() - start
        mean_loss = float(all_reduce_sum(loss_sum) / max(1, parts.steps_per_epoch * self.out.dist.world_size))
        return mean_loss, seen * self.out.dist.world_size / max(elapsed, 1e-9)

    def validation_due(self, epoch: int) -> bool:
        c = self.config
        if self.parts.validate is None:
            return False
        if epoch == c.epochs:
            return True
        return epoch >= c.first_validation_epoch and (epoch - c.first_validation_epoch) % c.validation_period == 0


def fit(parts: FitParts, config: FitConfig, out: FitOutputs, device: torch.device) -> FitResult:
    """Train for `config.epochs`, resuming from the latest checkpoint in `out.results_dir`."""
    loop = _Loop(parts, config, out, device)
    loop.resume()
    metrics: dict[str, float] = {}
    rates: list[float] = []
    epoch = loop.start_epoch - 1
    for epoch in range(loop.start_epoch, config.epochs + 1):
        loss, rate = loop.train_epoch(epoch)
        rates.append(rate)
        for hook in parts.on_epoch_end:
            hook()
        kpi: dict[str, Any] = {"epoch": epoch, "max_epoch": config.epochs, "loss": loss,
                               "images_per_s": round(rate, 2)}
        validated: dict[str, float] = {}
        if loop.validation_due(epoch):
            metrics = validated = _validate(loop, epoch)
            kpi.update(metrics)
        if loop.main:
            log.info("epoch %d/%d: loss %.5f, %.1f images/s%s", epoch, config.epochs, loss, rate,
                     "".join(f", {k} {v:.4f}" for k, v in validated.items() if k == parts.monitor))
            loop.events.scalars({"epoch/loss": loss}, epoch)
            loop.status.write(RUNNING, f"Epoch {epoch}/{config.epochs} finished", kpi=kpi)
            for epoch_logger in parts.epoch_loggers:
                epoch_logger(epoch, kpi)
        interval = config.checkpoint_interval or 10
        if epoch % interval == 0 or epoch == config.epochs or parts.schedule.stop_requested:
            loop.save_checkpoint(epoch)
        if parts.schedule.stop_requested:
            log.info("early stopping after epoch %d: the validation metric stopped improving", epoch)
            break
    if loop.main:
        ckpt.save_file(out.model_path, {**parts.model_payload(_unwrap(loop.model)), "epoch": epoch,
                                        "metrics": metrics}, kind="model")
    barrier()
    loop.events.close()
    best = None if loop.best == -math.inf else loop.best
    return FitResult(epoch, metrics, best, loop.best_epoch, sum(rates) / max(len(rates), 1), out.model_path,
                     out.best_path if best is not None else None, parts.monitor)


def _validate(loop: _Loop, epoch: int) -> dict[str, float]:
    parts = loop.parts
    metrics: dict[str, float] = {}
    if loop.main and parts.validate is not None:
        model = _unwrap(loop.model)
        model.eval()
        with torch.no_grad():
            metrics = parts.validate(model)
        loop.events.scalars({f"val/{k}": v for k, v in metrics.items()}, epoch)
        if parts.preview is not None:
            images = parts.preview(model)
            if images is not None:
                loop.events.images("val/detections", images, epoch)
        value = metrics.get(parts.monitor)
        if value is not None and math.isfinite(value) and value > loop.best:
            loop.best, loop.best_epoch = value, epoch
            ckpt.save_file(loop.out.best_path, {**parts.model_payload(model), "epoch": epoch,
                                                "metrics": metrics}, kind="model")
        parts.schedule.observe(epoch, value if value is not None else -math.inf)
    if loop.out.dist.enabled:  # every rank must follow rank 0's schedule (annealing, early stop)
        shared = [parts.schedule.state_dict()]
        torch.distributed.broadcast_object_list(shared, src=0)
        parts.schedule.load_state_dict(shared[0])
    barrier()
    return metrics
