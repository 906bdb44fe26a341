"""Everything a classification run needs, assembled from the spec for the shared fit loop."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from taokit.engine.fit import FitConfig, FitParts, TrainEnv
from taokit.engine.hooks import Hook, LoopState
from taokit.engine.loaders import training_loader
from taokit.engine.sampler import EpochSampler, SamplerEpoch
from taokit.engine.schedules import (
    ConstantLR,
    EpochDecay,
    Schedule,
    SoftStartCosine,
    SoftStartDivider,
    StepDecay,
    TimeDecay,
)
from taokit.errors import DataError, SpecError
from taokit.tasks.base import TrainingSetup
from taokit.tasks.classification.data import (
    FolderReport,
    ImageFolder,
    class_order,
    read_image_folder,
    write_classmap,
)
from taokit.tasks.classification.dataset import EvalDataset, MixUp, TrainDataset
from taokit.tasks.classification.epoch_log import EpochMeter, TrainingCsv
from taokit.tasks.classification.network import (
    build_for_training,
    check_arch,
    model_payload,
    preprocess_of,
)
from taokit.tasks.classification.spec import ClassificationSpec
from taokit.tasks.classification.transforms import EvalTransform, TrainTransform
from taokit.tasks.common.model_file import frozen_modules
from taokit.tasks.common.training import batch_norm_frozen, layer_parameters, norm_penalty, train_mode_setter

log = logging.getLogger("taokit.classification")
_SCOPE_LAYERS = {"conv2d": nn.Conv2d, "dense": nn.Linear}  # TAO's regularizer scope names
LOG_EVERY_STEPS = 20  # TAO's classification specs have no such key; TensorBoard gets the loss this often


class _EpochLog(Hook):
    """Per-epoch training accuracy (reset at each epoch) and TAO's training.csv (main rank)."""

    def __init__(self, meter: EpochMeter, csv: TrainingCsv | None) -> None:
        self.meter, self.csv = meter, csv

    def before_epoch(self, state: LoopState) -> None:
        self.meter.reset()

    def after_epoch(self, state: LoopState, kpi: dict[str, Any]) -> None:
        if self.csv is not None and state.is_main:
            self.csv.write(state.epoch, kpi, state.lr)


def build_schedule(spec: ClassificationSpec) -> Schedule:
    s, epochs = spec.train.schedule, spec.train.epochs
    lr = s.learning_rate
    schedules: dict[str, Any] = {
        "constant": lambda: ConstantLR(lr),
        "step": lambda: StepDecay(lr, s.gamma, s.step_fraction),
        "soft_anneal": lambda: SoftStartDivider(lr, s.start_lr, s.soft_start, tuple(s.annealing_points),
                                                s.annealing_divider),
        "cosine": lambda: SoftStartCosine(lr, lr * s.min_lr_ratio, s.soft_start),
        "epoch_step": lambda: EpochDecay(lr, "step", s.gamma, s.step_epochs, warmup_epochs=s.warmup_epochs),
        "multistep": lambda: EpochDecay(lr, "multistep", s.gamma, milestones=tuple(s.milestones),
                                        warmup_epochs=min(s.warmup_epochs, epochs)),
        "linear": lambda: EpochDecay(lr, "linear", warmup_epochs=min(s.warmup_epochs, epochs)),
    }
    schedule = schedules[s.type]()
    return TimeDecay(schedule, spec.train.optimizer.time_decay) if spec.train.optimizer.time_decay else schedule


def build_optimizer(spec: ClassificationSpec, model: nn.Module) -> torch.optim.Optimizer:
    """Parameter groups carry the weight decay: the optimizer's own, plus TAO's L2 regularizer on the
    kernels in its scope (Keras adds weight * sum(w^2) to the loss, i.e. 2 * weight to the decay)."""
    o, reg = spec.train.optimizer, spec.train.regularizer
    scoped = tuple(_SCOPE_LAYERS[s] for s in reg.scope)
    kernels = {id(m.weight) for m in model.modules() if scoped and isinstance(m, scoped)}
    groups: dict[float, list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        decay = 0.0 if any(n in name for n in o.no_decay_names) else o.weight_decay
        if reg.type == "l2" and id(p) in kernels:
            decay += 2.0 * reg.weight
        groups.setdefault(decay, []).append(p)
    params = [{"params": ps, "weight_decay": wd} for wd, ps in groups.items()]
    lr = spec.train.schedule.learning_rate
    if o.type == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=o.momentum, nesterov=o.nesterov and o.momentum > 0)
    if o.type == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=o.rho, eps=o.epsilon, momentum=o.momentum)
    cls = torch.optim.AdamW if o.type == "adamw" else torch.optim.Adam
    return cls(params, lr=lr, betas=(o.beta1, o.beta2), eps=o.epsilon)


def build_l1(spec: ClassificationSpec, model: nn.Module) -> Any:
    """TAO's L1 regularizer on the kernels in its scope, as a loss term (L2 is weight decay, above)."""
    reg = spec.train.regularizer
    if reg.type != "l1":
        return None
    kinds = tuple(_SCOPE_LAYERS[s] for s in reg.scope)
    return norm_penalty(layer_parameters(model, kinds, biases=False), "L1", reg.weight)


def load_folders(spec: ClassificationSpec, strict: bool) -> tuple[ImageFolder, ImageFolder | None, FolderReport]:
    """Training and validation folders with one class order; the checks of bad input happen here."""
    if not spec.data.train_dir:
        raise SpecError("no training data: set the training image folder (train_config.train_dataset_path or "
                        "dataset.train_dataset.images_dir)")
    train_dir = Path(spec.data.train_dir)
    classes, source = class_order(train_dir, spec.data.classes_file)
    log.info("classes (%s): %s", source or "sorted folder names", ", ".join(classes))
    if len(classes) < 2:
        raise DataError(f"{train_dir}: found {len(classes)} class folder(s); classification needs at least 2")
    if spec.data.num_classes and spec.data.num_classes != len(classes):
        raise DataError(f"the spec says num_classes {spec.data.num_classes} but {source or train_dir} has "
                        f"{len(classes)} classes")
    report = FolderReport()
    train = read_image_folder(train_dir, classes, split="train", report=report, strict=strict)
    if len(train.samples) < 2:
        raise DataError(f"{train_dir}: {len(train.samples)} readable training image(s); at least 2 are needed")
    val = None
    if spec.data.val_dir:
        val = read_image_folder(Path(spec.data.val_dir), classes, split="val", report=report, strict=strict)
    else:
        log.warning("no validation folder in the spec: training runs without validation")
    return train, val, report


def build_training(spec: ClassificationSpec, env: TrainEnv) -> TrainingSetup:
    """Model, data, loss, optimizer, schedule and validation of one training run."""
    check_arch(spec)  # before reading any data
    train, val, report = load_folders(spec, env.strict)
    classes = list(train.classes)
    if env.results_dir is not None and env.dist.is_main:
        write_classmap(env.results_dir / "classmap.json", classes)
    model = build_for_training(spec, classes).to(env.device)
    pre = preprocess_of(spec)
    offset, factor = (torch.as_tensor(v, device=env.device).view(1, 3, 1, 1) for v in pre.channel_params())
    t = spec.train
    workers = spec.data.n_workers
    sampler = EpochSampler(len(train.samples), t.seed, rank=env.dist.rank, world_size=env.dist.world_size)
    loader = training_loader(TrainDataset(train.samples, TrainTransform(spec.input_hw, spec.model.interpolation,
                                                                        spec.augment), pre.bgr, t.seed),
                             sampler, batch_size=t.batch_size, workers=workers, device=env.device)
    val_loader = None
    if val is not None and val.samples:
        val_loader = DataLoader(EvalDataset(val.samples, EvalTransform(spec.input_hw, spec.model.interpolation,
                                                                       spec.augment.center_crop), pre.bgr),
                                batch_size=spec.eval_batch_size, num_workers=min(workers, 1))
    log.info("training on %d images of %d classes, validating on %d", len(train.samples), len(classes),
             len(val.samples) if val else 0)
    mixup, meter = MixUp(spec.augment.mixup_alpha, t.seed), EpochMeter()

    def normalize(images: torch.Tensor) -> torch.Tensor:
        return (images.to(env.device, non_blocking=True).float() - offset) * factor

    def compute_loss(net: nn.Module, batch_: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        images, labels = normalize(batch_[0]), batch_[1].to(env.device)
        mixed, shuffled, lam = mixup(images, labels)
        logits = net(mixed)
        loss = lam * F.cross_entropy(logits, labels, label_smoothing=t.label_smoothing)
        if lam < 1.0:
            loss = loss + (1 - lam) * F.cross_entropy(logits, shuffled, label_smoothing=t.label_smoothing)
        meter.add(logits.detach(), labels if lam >= 0.5 else shuffled)
        return loss, {}

    def validate(net: nn.Module) -> dict[str, float]:
        total, loss_sum, correct = 0, 0.0, 0
        for images, labels in val_loader:  # type: ignore[union-attr]
            logits = net(normalize(images))
            labels = labels.to(env.device)
            loss_sum += float(F.cross_entropy(logits, labels, reduction="sum"))
            correct += int((logits.argmax(1) == labels).sum())
            total += len(labels)
        return {"val_accuracy": correct / max(total, 1), "val_loss": loss_sum / max(total, 1)}

    csv = TrainingCsv(env.results_dir / "training.csv", meter) if env.results_dir is not None else None
    parts = FitParts(
        model=model, optimizer=build_optimizer(spec, model), schedule=build_schedule(spec), loader=loader,
        compute_loss=compute_loss, model_payload=model_payload,
        validate=validate if val_loader is not None else None, monitor="val_accuracy",
        regularization=build_l1(spec, model),
        set_train_mode=train_mode_setter(batch_norm_frozen(spec.model.freeze_bn, model), frozen_modules(model)),
        stateful={"mixup": mixup}, hooks=[SamplerEpoch(sampler), _EpochLog(meter, csv)])
    config = FitConfig(epochs=t.epochs, checkpoint_interval=t.checkpoint_interval,
                       first_validation_epoch=1, validation_period=t.validation_interval,
                       log_every_steps=LOG_EVERY_STEPS, use_amp=env.use_amp)
    return TrainingSetup(parts, config, report.warnings())
