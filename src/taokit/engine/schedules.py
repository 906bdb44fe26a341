"""Learning-rate schedules of TAO's training_config.learning_rate (tao.md §3.4)."""

from __future__ import annotations

import math
from dataclasses import dataclass


def soft_start_annealing(progress: float, min_lr: float, max_lr: float, soft_start: float,
                         annealing: float) -> float:
    """Log-linear ramp min -> max over [0, soft_start], hold, then max -> min after `annealing`.

    `progress` is the fraction of all training steps done, in [0, 1].
    """
    if progress < soft_start:
        t = progress / soft_start
    elif progress <= annealing:
        t = 1.0
    else:
        t = max(0.0, (1.0 - progress) / (1.0 - annealing))
    return math.exp(math.log(min_lr) + t * (math.log(max_lr) - math.log(min_lr)))


class Schedule:
    """A schedule the fit loop asks for the learning rate at every step and tells about validations."""

    stop_requested = False

    def lr(self, step: int, steps_per_epoch: int, total_steps: int) -> float:
        raise NotImplementedError

    def observe(self, epoch: int, metric: float) -> None:
        """Called after each validation with the monitored metric (higher is better)."""

    def state_dict(self) -> dict[str, float | int | bool]:
        return {}

    def load_state_dict(self, state: dict[str, float | int | bool]) -> None:
        return None


@dataclass
class SoftStartAnnealing(Schedule):
    min_lr: float
    max_lr: float
    soft_start: float
    annealing: float

    def lr(self, step: int, steps_per_epoch: int, total_steps: int) -> float:
        progress = step / max(total_steps, 1)
        return soft_start_annealing(progress, self.min_lr, self.max_lr, self.soft_start, self.annealing)


@dataclass
class EarlyStoppingAnnealing(Schedule):
    """Ramp up over soft_start_epochs, hold max_lr until validation stops improving for
    `patience` validations, anneal to min_lr over annealing_epochs, then stop when the metric
    stops improving again (TAO's early_stopping_annealing_schedule)."""

    min_lr: float
    max_lr: float
    soft_start_epochs: int
    annealing_epochs: int
    patience: int
    best: float = -math.inf
    bad_validations: int = 0
    anneal_start_epoch: int = -1

    def lr(self, step: int, steps_per_epoch: int, total_steps: int) -> float:
        epoch_f = step / max(steps_per_epoch, 1)
        if self.soft_start_epochs and epoch_f < self.soft_start_epochs:
            t = epoch_f / self.soft_start_epochs
        elif self.anneal_start_epoch < 0:
            t = 1.0
        else:
            done = (epoch_f - self.anneal_start_epoch) / max(self.annealing_epochs, 1)
            t = max(0.0, 1.0 - done)
        return math.exp(math.log(self.min_lr) + t * (math.log(self.max_lr) - math.log(self.min_lr)))

    def observe(self, epoch: int, metric: float) -> None:
        if metric > self.best:
            self.best, self.bad_validations = metric, 0
            return
        self.bad_validations += 1
        if self.bad_validations < max(self.patience, 1):
            return
        if self.anneal_start_epoch < 0:
            self.anneal_start_epoch, self.bad_validations = epoch, 0
        elif epoch >= self.anneal_start_epoch + self.annealing_epochs:
            self.stop_requested = True

    def state_dict(self) -> dict[str, float | int | bool]:
        return {"best": self.best, "bad_validations": self.bad_validations,
                "anneal_start_epoch": self.anneal_start_epoch, "stop_requested": self.stop_requested}

    def load_state_dict(self, state: dict[str, float | int | bool]) -> None:
        self.best = float(state["best"])
        self.bad_validations = int(state["bad_validations"])
        self.anneal_start_epoch = int(state["anneal_start_epoch"])
        self.stop_requested = bool(state["stop_requested"])


@dataclass
class ConstantLR(Schedule):
    value: float

    def lr(self, step: int, steps_per_epoch: int, total_steps: int) -> float:
        return self.value


# -- classification (TAO classification_tf1 lr_config, classification_pyt optim.policy) -----------------


@dataclass
class StepDecay(Schedule):
    """TAO's `step`: lr = base * gamma ** (progress / step), with `step` a fraction of training.

    As in TAO's StepLRScheduler the exponent is continuous, so the rate decays smoothly rather than in
    stairs; `step_fraction` 0.1 with gamma 0.1 divides the rate by 10 every tenth of the run.
    """

    base_lr: float
    gamma: float
    step_fraction: float

    def lr(self, step: int, steps_per_epoch: int, total_steps: int) -> float:
        steps_per_decay = max(int(total_steps * self.step_fraction), 1)
        return self.base_lr * self.gamma ** (step / steps_per_decay)


@dataclass
class SoftStartDivider(Schedule):
    """TAO's `soft_anneal`: linear ramp start_lr -> base over `soft_start`, then divide by `divider`
    at every annealing point passed (points are fractions of training)."""

    base_lr: float
    start_lr: float
    soft_start: float
    annealing_points: tuple[float, ...]
    divider: float

    def lr(self, step: int, steps_per_epoch: int, total_steps: int) -> float:
        progress = step / max(total_steps, 1)
        if progress < self.soft_start:
            t = progress / self.soft_start
            return t * self.base_lr + (1.0 - t) * self.start_lr
        return self.base_lr / self.divider ** sum(progress > p for p in self.annealing_points)


@dataclass
class SoftStartCosine(Schedule):
    """TAO's `cosine`: linear ramp min -> base over `soft_start`, then cosine towards min.

    TAO's cosine phase uses cos(pi * (progress - soft_start)) without rescaling, so with a soft start
    the rate ends slightly above min_lr; kept as is so that runs match TAO's.
    """

    base_lr: float
    min_lr: float
    soft_start: float

    def lr(self, step: int, steps_per_epoch: int, total_steps: int) -> float:
        progress = step / max(total_steps, 1)
        if self.soft_start > 0 and progress < self.soft_start:
            return self.min_lr + (self.base_lr - self.min_lr) * progress / self.soft_start
        return self.min_lr + (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * (progress - self.soft_start))) / 2


@dataclass
class EpochDecay(Schedule):
    """Per-epoch policies of PyTorch trainers after `warmup_epochs` of linear ramp-up:
    `step` (x gamma every `step_epochs`), `multistep` (x gamma at each milestone epoch) and
    `linear` (straight down to zero at the end)."""

    base_lr: float
    policy: str  # "step", "multistep" or "linear"
    gamma: float = 0.1
    step_epochs: int = 30
    milestones: tuple[int, ...] = ()
    warmup_epochs: int = 0

    def lr(self, step: int, steps_per_epoch: int, total_steps: int) -> float:
        epoch_f = step / max(steps_per_epoch, 1)
        if epoch_f < self.warmup_epochs:
            return self.base_lr * (epoch_f + 1.0 / max(steps_per_epoch, 1)) / self.warmup_epochs
        epoch = int(epoch_f)
        if self.policy == "linear":
            total = total_steps / max(steps_per_epoch, 1)
            span = max(total - self.warmup_epochs, 1e-9)
            return self.base_lr * max(0.0, 1.0 - (epoch_f - self.warmup_epochs) / span)
        if self.policy == "multistep":
            return self.base_lr * self.gamma ** sum(epoch >= m for m in self.milestones)
        return self.base_lr * self.gamma ** (epoch // max(self.step_epochs, 1))


@dataclass
class TimeDecay(Schedule):
    """Keras's optimizer `decay`: the inner schedule's rate divided by (1 + decay * step)."""

    inner: Schedule
    decay: float

    def lr(self, step: int, steps_per_epoch: int, total_steps: int) -> float:
        return self.inner.lr(step, steps_per_epoch, total_steps) / (1.0 + self.decay * step)
