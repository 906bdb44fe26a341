"""Everything a DetectNet_v2 training run needs, assembled from the experiment spec for the fit loop."""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from taokit.data.records import DatasetReport
from taokit.engine.fit import FitConfig, FitParts, TrainEnv
from taokit.engine.hooks import Hook, LoopState
from taokit.engine.loaders import training_loader
from taokit.engine.sampler import EpochSampler, SamplerEpoch
from taokit.engine.schedules import EarlyStoppingAnnealing, Schedule, SoftStartAnnealing
from taokit.errors import DataError
from taokit.tasks.base import TrainingSetup
from taokit.tasks.common.model_file import frozen_modules
from taokit.tasks.common.training import batch_norm_frozen, layer_parameters, norm_penalty, train_mode_setter
from taokit.tasks.detectnet.data import load_training_records
from taokit.tasks.detectnet.dataset import EvalDataset, TrainDataset, collate_eval, to_samples
from taokit.tasks.detectnet.loss import ClassCost, DetectNetCost
from taokit.tasks.detectnet.model import DetectNetArch
from taokit.tasks.detectnet.network import build_for_training, model_payload
from taokit.tasks.detectnet.scoring import evaluate, torch_predictor, validation_preview
from taokit.tasks.detectnet.spec import DetectNetExperiment

log = logging.getLogger("taokit.detectnet")


def build_schedule(spec: DetectNetExperiment) -> Schedule:
    lr = spec.training_config.learning_rate
    if lr.early_stopping_annealing_schedule is not None:
        e = lr.early_stopping_annealing_schedule
        return EarlyStoppingAnnealing(e.min_learning_rate, e.max_learning_rate, e.soft_start_epochs,
                                      e.annealing_epochs, e.patience_steps)
    s = lr.soft_start_annealing_schedule
    if s is None:
        from taokit.spec.training_sections import SoftStartAnnealingSchedule

        s = SoftStartAnnealingSchedule()
    return SoftStartAnnealing(s.min_learning_rate, s.max_learning_rate, s.soft_start, s.annealing)


def build_cost(spec: DetectNetExperiment, arch: DetectNetArch) -> DetectNetCost:
    classes = []
    for c in spec.cost_function_config.target_classes:
        objectives = {o.name: o for o in c.objectives}
        cov, bbox = objectives.get("cov"), objectives.get("bbox")
        classes.append(ClassCost(c.class_weight, c.coverage_foreground_weight,
                                 cov.initial_weight if cov else 0.0, bbox.initial_weight if bbox else 0.0,
                                 cov.weight_target if cov else 0.0, bbox.weight_target if bbox else 0.0))
    cf = spec.cost_function_config
    return DetectNetCost(classes, cf.enable_autoweighting, cf.min_objective_weight, cf.max_objective_weight,
                         iou_aware=cf.iou_aware_coverage, giou_weight=cf.bbox_giou_weight,
                         focal_gamma=cf.coverage_focal_gamma, dfl_weight=cf.bbox_dfl_weight,
                         bins_per_unit=1.0 / arch.cell_in_bbox_units)


def _loaders(spec: DetectNetExperiment, env: TrainEnv, grid_hw: tuple[int, int]) -> tuple[DataLoader, DataLoader | None, EpochSampler,
                                                                 DatasetReport]:
    records = load_training_records(spec.dataset_config, strict=env.strict)
    mapping = spec.dataset_config.target_class_mapping
    train = to_samples(records.train, spec.class_names, mapping, records.report)
    if not train:
        raise DataError("no training images: check dataset_config.data_sources and validation_fold")
    val = to_samples(records.val, spec.class_names, mapping)
    tc = spec.training_config
    sampler = EpochSampler(len(train), spec.random_seed, rank=env.dist.rank, world_size=env.dist.world_size)
    train_loader = training_loader(TrainDataset(train, spec, spec.random_seed, grid_hw, strict=env.strict), sampler,
                                   batch_size=tc.batch_size_per_gpu, workers=tc.n_workers, device=env.device)
    val_loader = None
    if val:
        batch = spec.evaluation_config.batch_size or tc.batch_size_per_gpu
        val_loader = DataLoader(EvalDataset(val, spec, strict=env.strict), batch_size=batch,
                                num_workers=min(tc.n_workers, 1), collate_fn=collate_eval)
    log.info("training on %d images, validating on %d", len(train), len(val))
    return train_loader, val_loader, sampler, records.report


class _EndEpochAutoweighting(Hook):
    """TAO's cost autoweighting updates the objective weights once per epoch, on every rank alike."""

    def __init__(self, cost: DetectNetCost) -> None:
        self.cost = cost

    def after_epoch(self, state: LoopState, kpi: dict[str, Any]) -> None:
        self.cost.end_epoch()


class _ValidationPreview(Hook):
    """visualizer: validation images with their detections in TensorBoard, every
    `infrequent_logging_frequency` epochs (and at the last one)."""

    def __init__(self, spec: DetectNetExperiment, loader: DataLoader, device: torch.device) -> None:
        self.spec, self.loader, self.device = spec, loader, device
        self.every = spec.training_config.visualizer.infrequent_logging_frequency

    def after_validation(self, state: LoopState, metrics: dict[str, float]) -> None:
        if state.epoch != state.epochs and (not self.every or state.epoch % self.every):
            return
        images = validation_preview(state.model, self.loader, self.spec, self.device)
        state.events.images("val/detections", images, state.epoch)


def build_regularization(spec: DetectNetExperiment, model: nn.Module) -> Any:
    """TAO's regularizer on every conv and dense layer's weights and biases, as a loss term."""
    reg = spec.training_config.regularizer
    return norm_penalty(layer_parameters(model, (nn.Conv2d, nn.Linear), biases=True), reg.type, reg.weight)


def build_training(spec: DetectNetExperiment, env: TrainEnv) -> TrainingSetup:
    """Model, data, cost, optimizer, schedule and validation of one training run."""
    pre = spec.augmentation_config.preprocessing
    if not pre.enable_auto_resize:  # TAO would stop at the first image of another size; taokit resizes it
        log.info("augmentation_config.preprocessing.enable_auto_resize is false: images of another size are "
                 "still resized to %dx%d", pre.output_image_width, pre.output_image_height)
    model = build_for_training(spec).to(env.device)
    train_loader, val_loader, sampler, report = _loaders(spec, env, model.arch.grid_hw)
    cost = build_cost(spec, model.arch)
    adam = spec.training_config.optimizer.adam
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4,
                                 betas=(adam.beta1, adam.beta2), eps=adam.epsilon)

    def compute_loss(net: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        images, cov_t, bbox_t, cov_norm_t, *mask = (t.to(env.device, non_blocking=True) for t in batch)
        cov, bbox, *logits = net(images.float().div_(255.0))  # a distribution head adds its edge logits
        return cost(cov, bbox, cov_t, bbox_t, cov_norm_t, mask[0] if mask else None, *logits)

    def validate(net: nn.Module) -> dict[str, float]:
        metrics = evaluate(torch_predictor(net, env.device), val_loader, spec, total=len(val_loader))
        return {"mAP": metrics.mAP, **{f"AP_{k}": v.ap for k, v in metrics.per_class.items()},
                "coco_mAP": metrics.map}

    tc, ev = spec.training_config, spec.evaluation_config
    hooks: list[Hook] = [SamplerEpoch(sampler), _EndEpochAutoweighting(cost)]
    if tc.visualizer.enabled and val_loader is not None:
        hooks.append(_ValidationPreview(spec, val_loader, env.device))
    parts = FitParts(
        model=model, optimizer=optimizer, schedule=build_schedule(spec), loader=train_loader,
        compute_loss=compute_loss, model_payload=model_payload,
        validate=validate if val_loader is not None else None, monitor="mAP",
        regularization=build_regularization(spec, model),
        set_train_mode=train_mode_setter(batch_norm_frozen(spec.model_config_.freeze_bn, model),
                                          frozen_modules(model)),
        stateful={"cost": cost}, hooks=hooks)
    config = FitConfig(epochs=tc.num_epochs, checkpoint_interval=tc.checkpoint_interval,
                       first_validation_epoch=ev.first_validation_epoch,
                       validation_period=ev.validation_period_during_training,
                       log_every_steps=max(tc.visualizer.scalar_logging_frequency, 1), use_amp=env.use_amp,
                       ema_decay=tc.ema_decay)
    return TrainingSetup(parts, config, report.warnings())
