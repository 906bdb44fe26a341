"""Everything a LaneNet training run needs, assembled from the experiment spec for the shared fit loop."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from taokit.engine.fit import FitConfig, FitParts, TrainEnv
from taokit.engine.loaders import training_loader
from taokit.engine.sampler import EpochSampler, SamplerEpoch
from taokit.engine.schedules import SoftStartAnnealing
from taokit.errors import DataError
from taokit.tasks.base import TrainingSetup
from taokit.tasks.common.training import layer_parameters, norm_penalty
from taokit.tasks.lanenet.data import LaneReport, LaneSample, read_lane_dataset
from taokit.tasks.lanenet.dataset import EvalDataset, TrainDataset
from taokit.tasks.lanenet.loss import LaneNetLoss
from taokit.tasks.lanenet.network import build_for_training, model_payload
from taokit.tasks.lanenet.scoring import evaluate_lanes, torch_predictor
from taokit.tasks.lanenet.spec import LaneNetExperiment
from taokit.tasks.lanenet.spec.data import DataSource

log = logging.getLogger("taokit.lanenet")
MONITOR = "tusimple_accuracy"


def read_sources(sources: list[DataSource], extension: str, report: LaneReport) -> list[LaneSample]:
    samples: list[LaneSample] = []
    for source in sources:
        samples += read_lane_dataset(Path(source.image_directory_path), Path(source.label_directory_path),
                                     extension, report)
    return samples


def load_splits(spec: LaneNetExperiment) -> tuple[list[LaneSample], list[LaneSample], LaneReport]:
    d, report = spec.dataset_config, LaneReport()
    train = read_sources(d.data_sources, d.image_extension, report)
    if not train:
        raise DataError("no training images: check dataset_config.data_sources")
    val = read_sources(d.validation_data_sources, d.image_extension, report)
    return train, val, report


def eval_loader(samples: list[LaneSample], spec: LaneNetExperiment, batch_size: int | None = None) -> DataLoader:
    batch = batch_size or spec.evaluation_config.batch_size or spec.train_config.batch_size
    return DataLoader(EvalDataset(samples, spec.input_hw), batch_size=batch,
                      num_workers=min(spec.train_config.n_workers, 1))


def build_training(spec: LaneNetExperiment, env: TrainEnv) -> TrainingSetup:
    """Model, data, loss, optimizer, schedule and validation of one training run."""
    train, val, report = load_splits(spec)
    model = build_for_training(spec).to(env.device)
    t = spec.train_config
    sampler = EpochSampler(len(train), spec.random_seed, rank=env.dist.rank, world_size=env.dist.world_size)
    loader = training_loader(TrainDataset(train, spec, spec.random_seed), sampler, batch_size=t.batch_size,
                             workers=t.n_workers, device=env.device)
    val_loader = eval_loader(val, spec) if val else None
    log.info("training on %d images (%d lanes), validating on %d", len(train), sum(len(s.lanes) for s in train),
             len(val))
    loss = LaneNetLoss(spec.loss_config)

    def compute_loss(net: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        images, binary, instances = (t_.to(env.device, non_blocking=True) for t_ in batch)
        logits, embedding = net(images.float().div_(255.0))
        return loss(logits, embedding, binary, instances)

    def validate(net: nn.Module) -> dict[str, float]:
        scores = evaluate_lanes(torch_predictor(net, env.device), val_loader, val, spec,  # type: ignore[arg-type]
                                total=len(val_loader))  # type: ignore[arg-type]
        result = scores.to_dict()
        tusimple, culane = result["tusimple"], result["culane"]
        return {MONITOR: tusimple["accuracy"], "tusimple_fp": tusimple["fp"], "tusimple_fn": tusimple["fn"],
                "culane_f1": culane["f1"], "pixel_iou": result["pixel"]["iou"]}  # type: ignore[index]

    s = t.learning_rate.soft_start_annealing_schedule
    reg = t.regularizer
    conv_kinds = (nn.Conv2d, nn.ConvTranspose2d)
    parts = FitParts(
        model=model, optimizer=torch.optim.Adam(model.parameters(), lr=s.max_learning_rate),
        schedule=SoftStartAnnealing(s.min_learning_rate, s.max_learning_rate, s.soft_start, s.annealing),
        loader=loader, compute_loss=compute_loss, model_payload=model_payload,
        validate=validate if val_loader is not None else None, monitor=MONITOR,
        regularization=norm_penalty(layer_parameters(model, conv_kinds, biases=True), reg.type, reg.weight),
        hooks=[SamplerEpoch(sampler)])
    config = FitConfig(epochs=t.epochs, checkpoint_interval=t.checkpoint_interval,
                       first_validation_epoch=t.validation_period, validation_period=t.validation_period,
                       log_every_steps=20, use_amp=env.use_amp)
    return TrainingSetup(parts, config, report.warnings())
