"""Everything a DetectNet_v2 training run needs, assembled from the experiment spec for the fit loop."""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from taokit.data.records import DatasetReport
from taokit.engine.fit import FitConfig, FitParts, TrainEnv
from taokit.engine.schedules import EarlyStoppingAnnealing, Schedule, SoftStartAnnealing
from taokit.errors import DataError
from taokit.models.layers import set_batch_norm_frozen
from taokit.tasks.detectnet.dataset import EpochSampler, EvalDataset, TrainDataset, collate_eval, to_samples
from taokit.tasks.detectnet.evaluation import evaluate, torch_predictor, validation_preview
from taokit.tasks.detectnet.loss import ClassCost, DetectNetCost
from taokit.tasks.detectnet.network import build_for_training, frozen_modules, model_payload
from taokit.tasks.detectnet.records import load_training_records
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
        from taokit.tasks.detectnet.spec.training import SoftStartAnnealingSchedule

        s = SoftStartAnnealingSchedule()
    return SoftStartAnnealing(s.min_learning_rate, s.max_learning_rate, s.soft_start, s.annealing)


def build_cost(spec: DetectNetExperiment) -> DetectNetCost:
    classes = []
    for c in spec.cost_function_config.target_classes:
        objectives = {o.name: o for o in c.objectives}
        cov, bbox = objectives.get("cov"), objectives.get("bbox")
        classes.append(ClassCost(c.class_weight, c.coverage_foreground_weight,
                                 cov.initial_weight if cov else 0.0, bbox.initial_weight if bbox else 0.0,
                                 cov.weight_target if cov else 0.0, bbox.weight_target if bbox else 0.0))
    cf = spec.cost_function_config
    return DetectNetCost(classes, cf.enable_autoweighting, cf.min_objective_weight, cf.max_objective_weight)


def build_regularization(spec: DetectNetExperiment, model: nn.Module) -> Any:
    reg = spec.training_config.regularizer
    if reg.type == "NO_REG" or reg.weight == 0:
        return None
    params = [p for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))
              for p in m.parameters(recurse=False) if p.requires_grad]
    power = 1 if reg.type == "L1" else 2

    def penalty(_: nn.Module) -> torch.Tensor:
        total = sum(p.abs().sum() if power == 1 else p.pow(2).sum() for p in params)
        return reg.weight * total  # type: ignore[return-value]

    return penalty


def _loaders(spec: DetectNetExperiment, env: TrainEnv) -> tuple[DataLoader, DataLoader | None, EpochSampler,
                                                                 DatasetReport]:
    records = load_training_records(spec.dataset_config, strict=env.strict)
    mapping = spec.dataset_config.target_class_mapping
    train = to_samples(records.train, spec.class_names, mapping, records.report)
    if not train:
        raise DataError("no training images: check dataset_config.data_sources and validation_fold")
    val = to_samples(records.val, spec.class_names, mapping)
    tc = spec.training_config
    sampler = EpochSampler(len(train), spec.random_seed, True, env.dist.rank, env.dist.world_size)
    workers = tc.n_workers
    train_loader = DataLoader(TrainDataset(train, spec, spec.random_seed), batch_size=tc.batch_size_per_gpu,
                              sampler=sampler, num_workers=workers, persistent_workers=workers > 0,
                              pin_memory=env.device.type == "cuda", prefetch_factor=2 if workers else None)
    val_loader = None
    if val:
        batch = spec.evaluation_config.batch_size or tc.batch_size_per_gpu
        val_loader = DataLoader(EvalDataset(val, spec), batch_size=batch, num_workers=min(workers, 1),
                                collate_fn=collate_eval)
    log.info("training on %d images, validating on %d", len(train), len(val))
    return train_loader, val_loader, sampler, records.report


def build_training(spec: DetectNetExperiment, env: TrainEnv) -> tuple[FitParts, FitConfig, DatasetReport]:
    """Model, data, cost, optimizer, schedule and validation of one training run."""
    model = build_for_training(spec).to(env.device)
    train_loader, val_loader, sampler, report = _loaders(spec, env)
    cost = build_cost(spec)
    adam = spec.training_config.optimizer.adam
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4,
                                 betas=(adam.beta1, adam.beta2), eps=adam.epsilon)
    frozen = frozen_modules(model)
    freeze_bn = spec.model_config_.freeze_bn

    def make_loader(epoch: int) -> DataLoader:
        sampler.set_epoch(epoch)
        return train_loader

    def compute_loss(net: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        images, cov_t, bbox_t, cov_norm_t = (t.to(env.device, non_blocking=True) for t in batch)
        cov, bbox = net(images.float().div_(255.0))
        return cost(cov, bbox, cov_t, bbox_t, cov_norm_t)

    def set_train_mode(net: nn.Module) -> None:
        net.train()
        if freeze_bn:
            set_batch_norm_frozen(net)
        for m in frozen:  # frozen blocks keep their batch-norm statistics too
            m.eval()

    def validate(net: nn.Module) -> dict[str, float]:
        metrics = evaluate(torch_predictor(net, env.device), val_loader, spec, total=len(val_loader))
        return {"mAP": metrics.mAP, **{f"AP_{k}": v.ap for k, v in metrics.per_class.items()},
                "coco_mAP": metrics.map}

    def preview(net: nn.Module) -> torch.Tensor | None:
        return validation_preview(net, val_loader, spec, env.device) if val_loader is not None else None

    parts = FitParts(
        model=model, optimizer=optimizer, schedule=build_schedule(spec), make_loader=make_loader,
        steps_per_epoch=len(train_loader), compute_loss=compute_loss, model_payload=model_payload,
        validate=validate if val_loader is not None else None, monitor="mAP",
        regularization=build_regularization(spec, model), on_epoch_end=[cost.end_epoch],
        stateful={"cost": cost}, set_train_mode=set_train_mode, batch_size=spec.training_config.batch_size_per_gpu,
        preview=preview if spec.training_config.visualizer.enabled else None)
    ev = spec.evaluation_config
    config = FitConfig(epochs=spec.training_config.num_epochs,
                       checkpoint_interval=spec.training_config.checkpoint_interval,
                       first_validation_epoch=ev.first_validation_epoch,
                       validation_period=ev.validation_period_during_training, use_amp=env.use_amp)
    return parts, config, report
