"""The training loop every task uses: epochs, AMP, DDP, checkpoints, resume, validation, best model.

A task hands over a `FitParts` (model, data, loss, schedule, validation, hooks); this module knows
nothing about what is being trained.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from taokit.engine import checkpoint as ckpt
from taokit.engine.distributed import DistInfo, all_reduce_sum, barrier
from taokit.engine.hooks import Hook, LoopState
from taokit.engine.progress import Progress
from taokit.engine.schedules import Schedule
from taokit.engine.status import RUNNING, StatusFile
from taokit.engine.tensorboard import EventWriter
from taokit.engine.weight_average import WeightAverage
from taokit.errors import TaokitError

log = logging.getLogger("taokit.train")


class BatchLoader(Protocol):
    """A DataLoader, or anything with a length (steps per epoch) that yields batches."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...


class Stateful(Protocol):
    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> Any: ...


@dataclass
class FitParts:
    """What to train. `compute_loss(model, batch)` moves the batch to the device itself and returns
    (loss, named loss terms for logs). Steps per epoch are `len(loader)`; images per batch are counted
    from each batch."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    loader: BatchLoader
    compute_loss: Callable[[nn.Module, Any], tuple[torch.Tensor, dict[str, torch.Tensor]]]
    model_payload: Callable[[nn.Module], dict[str, Any]]  # the model file minus the header
    validate: Callable[[nn.Module], dict[str, float]] | None = None
    monitor: str = "mAP"  # the validation metric that picks the best model (higher is better)
    regularization: Callable[[nn.Module], torch.Tensor] | None = None
    set_train_mode: Callable[[nn.Module], object] = nn.Module.train
    stateful: dict[str, Stateful] = field(default_factory=dict)  # extra state saved in checkpoints
    hooks: list[Hook] = field(default_factory=list)


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
    checkpoint_interval: int  # epochs between checkpoints; 0: the last epoch only (TAO's), which is always saved
    first_validation_epoch: int
    validation_period: int
    log_every_steps: int  # steps between loss lines in TensorBoard and on the progress bar
    use_amp: bool = False
    ema_decay: float = 0.0  # > 0: validate and save an exponential moving average of the weights

    def __post_init__(self) -> None:
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"FitConfig.ema_decay must be in [0, 1), got {self.ema_decay}")
        for name in ("epochs", "validation_period", "log_every_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"FitConfig.{name} must be at least 1, got {getattr(self, name)}")
        if self.checkpoint_interval < 0:
            raise ValueError(f"FitConfig.checkpoint_interval must be 0 or more, got {self.checkpoint_interval}")


@dataclass
class FitOutputs:
    results_dir: Path
    model_name: str
    dist: DistInfo = DistInfo()
    model_extras: dict[str, Any] = field(default_factory=dict)  # stored in every model file (the spec)

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


class NonFiniteLoss(TaokitError):
    """The loss became NaN or infinite: training cannot continue from here."""


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def batch_images(batch: Any) -> int:
    """How many images a batch holds: the length of its first tensor."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else 1
    items = batch.values() if isinstance(batch, dict) else batch if isinstance(batch, (list, tuple)) else ()
    for item in items:
        count = batch_images(item)
        if count:
            return count
    return 0


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
        self.average = WeightAverage(parts.model, config.ema_decay) if config.ema_decay else None
        self.steps_per_epoch = len(parts.loader)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.start_epoch, self.best = 1, -math.inf
        self.best_epoch: int | None = None
        self.state = LoopState(0, config.epochs, self.main, parts.model, self.events)

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
        if self.average is not None and state.get("weight_average"):
            self.average.load_state_dict(state["weight_average"])
        self.start_epoch = int(state["epoch"]) + 1
        self.best = float(state["best"]) if state["best"] is not None else -math.inf
        self.best_epoch = state["best_epoch"]
        torch.set_rng_state(state["rng"])
        cuda_rng = state.get("cuda_rng") or []
        if cuda_rng and torch.cuda.is_available():  # dropout and augmentation on the GPU resume exactly too
            torch.cuda.set_rng_state_all(cuda_rng[: torch.cuda.device_count()])
        log.info("resuming from %s (epoch %d done)", latest, state["epoch"])

    def save_checkpoint(self, epoch: int) -> None:
        if not self.main:
            return
        state = {
            "epoch": epoch, "model": _unwrap(self.model).state_dict(),
            "optimizer": self.parts.optimizer.state_dict(), "scaler": self.scaler.state_dict(),
            "schedule": self.parts.schedule.state_dict(),
            "stateful": {k: v.state_dict() for k, v in self.parts.stateful.items()},
            "weight_average": self.average.state_dict() if self.average is not None else None,
            "best": None if self.best == -math.inf else self.best, "best_epoch": self.best_epoch,
            "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        }
        ckpt.save_file(self.out.checkpoints / f"epoch_{epoch:03d}.pth", state, kind="checkpoint")

    def trained_model(self) -> nn.Module:
        """What training produced: the weight average when there is one, else the weights themselves."""
        return self.average.model if self.average is not None else _unwrap(self.model)

    def save_model(self, path: Path, epoch: int, metrics: dict[str, float]) -> None:
        payload = {**self.parts.model_payload(self.trained_model()), **self.out.model_extras, "epoch": epoch,
                   "metrics": metrics}
        ckpt.save_file(path, payload, kind="model")

    def check_finite(self, loss: torch.Tensor, logs: dict[str, torch.Tensor], epoch: int, step: int) -> None:
        """Stop on a NaN/inf loss at the step it appears. All ranks agree (one all-reduce), so a rank
        whose own loss is finite stops too instead of waiting forever in the next collective."""
        bad = (~torch.isfinite(loss.detach())).float().reshape(1)
        if self.out.dist.enabled:
            all_reduce_sum(bad)
        if not bool(bad.item()):
            return
        value = float(loss.detach())
        where = "" if not math.isfinite(value) else " on another rank"
        terms = ", ".join(f"{k} {float(v):.4g}" for k, v in logs.items())
        raise NonFiniteLoss(f"the loss became {value if not where else 'non-finite'}{where} at epoch {epoch}, "
                            f"step {step}/{self.steps_per_epoch}" + (f" (terms: {terms})" if terms else "")
                            + "; lower the learning rate or check the labels")

    def train_epoch(self, epoch: int) -> tuple[float, float]:
        parts, model = self.parts, self.model
        parts.set_train_mode(_unwrap(model))
        step = (epoch - 1) * self.steps_per_epoch
        loss_sum = torch.zeros((), device=self.device)
        progress = Progress(self.steps_per_epoch, f"epoch {epoch}/{self.config.epochs}", enabled=self.main)
        seen, start = 0, time.perf_counter()
        for i, batch in enumerate(progress(parts.loader)):
            lr = parts.schedule.lr(step, self.steps_per_epoch, self.total_steps)
            for group in parts.optimizer.param_groups:
                group["lr"] = lr * group.get("lr_scale", 1.0)
            with torch.autocast(self.device.type, enabled=self.amp):
                loss, logs = parts.compute_loss(model, batch)
            if parts.regularization is not None:
                loss = loss + parts.regularization(_unwrap(model))
            self.check_finite(loss, logs, epoch, i + 1)
            parts.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(parts.optimizer)
            self.scaler.update()
            if self.average is not None:
                self.average.update(_unwrap(model))
            loss_sum += loss.detach()
            seen += batch_images(batch)
            step += 1
            self.state.lr = lr
            if self.main and (i + 1) % self.config.log_every_steps == 0:
                value = float(loss.detach())
                progress.postfix = f"loss {value:.4f} lr {lr:.2e}"
                self.events.scalars({"loss": value, "lr": lr, **{k: float(v) for k, v in logs.items()}}, step)
        elapsed = time.perf_counter() - start
        world = self.out.dist.world_size
        mean_loss = float(all_reduce_sum(loss_sum) / max(1, self.steps_per_epoch * world))
        return mean_loss, seen * world / max(elapsed, 1e-9)

    def validation_due(self, epoch: int) -> bool:
        c = self.config
        if self.parts.validate is None:
            return False
        if epoch == c.epochs:
            return True
        return epoch >= c.first_validation_epoch and (epoch - c.first_validation_epoch) % c.validation_period == 0

    def checkpoint_due(self, epoch: int) -> bool:
        interval = self.config.checkpoint_interval
        return ((interval > 0 and epoch % interval == 0) or epoch == self.config.epochs
                or self.parts.schedule.stop_requested)


def fit(parts: FitParts, config: FitConfig, out: FitOutputs, device: torch.device) -> FitResult:
    """Train for `config.epochs`, resuming from the latest checkpoint in `out.results_dir`."""
    loop = _Loop(parts, config, out, device)
    loop.resume()
    metrics: dict[str, float] = {}
    rates: list[float] = []
    epoch = loop.start_epoch - 1
    for epoch in range(loop.start_epoch, config.epochs + 1):
        loop.state.epoch = epoch
        for hook in parts.hooks:
            hook.before_epoch(loop.state)
        loss, rate = loop.train_epoch(epoch)
        rates.append(rate)
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
        for hook in parts.hooks:
            hook.after_epoch(loop.state, kpi)
        if loop.checkpoint_due(epoch):
            loop.save_checkpoint(epoch)
        if parts.schedule.stop_requested:
            log.info("early stopping after epoch %d: the validation metric stopped improving", epoch)
            break
    if loop.main:
        loop.save_model(out.model_path, epoch, metrics)
    barrier()
    loop.events.close()
    best = None if loop.best == -math.inf else loop.best
    return FitResult(epoch, metrics, best, loop.best_epoch, sum(rates) / max(len(rates), 1), out.model_path,
                     out.best_path if best is not None else None, parts.monitor)


def _validate(loop: _Loop, epoch: int) -> dict[str, float]:
    parts = loop.parts
    metrics: dict[str, float] = {}
    if loop.main and parts.validate is not None:
        model = loop.trained_model()
        model.eval()
        _unwrap(loop.model).eval()  # hooks see the training model, in eval mode too
        with torch.no_grad():
            metrics = parts.validate(model)
            loop.events.scalars({f"val/{k}": v for k, v in metrics.items()}, epoch)
            for hook in parts.hooks:
                hook.after_validation(loop.state, metrics)
        value = metrics.get(parts.monitor)
        if value is not None and math.isfinite(value) and value > loop.best:
            loop.best, loop.best_epoch = value, epoch
            loop.save_model(loop.out.best_path, epoch, metrics)
        parts.schedule.observe(epoch, value if value is not None else -math.inf)
    if loop.out.dist.enabled:  # every rank must follow rank 0's schedule (annealing, early stop)
        shared = [parts.schedule.state_dict()]
        torch.distributed.broadcast_object_list(shared, src=0)
        parts.schedule.load_state_dict(shared[0])
    barrier()
    return metrics
