"""Two mappings, one model: TAO's tf1 protobuf spec and its PyTorch YAML spec become a ClassificationSpec."""

from __future__ import annotations

import re
from pathlib import Path

from taokit.tasks.classification.spec.pyt import PytSpec
from taokit.tasks.classification.spec.tf1 import Tf1Spec
from taokit.tasks.classification.spec.unified import (
    AugmentSection,
    ClassificationSpec,
    DataSection,
    EvaluateSection,
    InferenceSection,
    ModelSection,
    OptimizerSection,
    RegularizerSection,
    ScheduleSection,
    TrainSection,
)

# TAO tf1's enable_color_augmentation: hue +-25 degrees, saturation +-0.2, contrast +-0.1 (makenet helper.py).
_TF1_COLOR = {"color_probability": 1.0, "hue": 25.0 / 360.0, "saturation": 0.2, "contrast": 0.1}
_TF1_CROP_FRACTION = (0.45, 1.0)  # makenet preprocess_crop.py: random.uniform(0.45, 1.0)


def from_tf1(spec: Tf1Spec) -> ClassificationSpec:
    m, t, e = spec.model_config_, spec.train_config, spec.eval_config
    _, h, w = (int(v) for v in m.input_image_size.split(","))
    bn = m.batch_norm_config
    model = ModelSection(
        arch=m.arch, num_layers=m.n_layers or 18, input_height=h, input_width=w,
        interpolation=m.resize_interpolation_method.lower(), use_batch_norm=m.use_batch_norm,
        all_projections=m.all_projections, use_bias=m.use_bias, use_pooling=m.use_pooling,
        activation=m.activation.activation_type, dropout=m.dropout,
        freeze_blocks=list(m.freeze_blocks), freeze_bn=m.freeze_bn, bn_momentum=bn.momentum if bn else None,
        bn_epsilon=bn.epsilon if bn else None, arch_key="model_config.arch")
    mean = [t.image_mean[c] for c in "bgr"] if t.image_mean and t.preprocess_mode == "caffe" else []
    data = DataSection(train_dir=t.train_dataset_path, val_dir=t.val_dataset_path, test_dir=e.eval_dataset_path,
                       preprocess_mode=t.preprocess_mode, mean=mean, n_workers=t.n_workers)
    augment = AugmentSection(
        random_crop=t.enable_random_crop, crop_fraction_min=_TF1_CROP_FRACTION[0],
        crop_fraction_max=_TF1_CROP_FRACTION[1], center_crop=t.enable_center_crop,
        hflip_probability=0.0 if t.disable_horizontal_flip else 0.5, mixup_alpha=t.mixup_alpha,
        **(_TF1_COLOR if t.enable_color_augmentation else {}))
    train = TrainSection(
        batch_size=t.batch_size_per_gpu, epochs=t.n_epochs, seed=t.random_seed, checkpoint_interval=1,
        label_smoothing=t.label_smoothing, pretrained_model_path=t.pretrained_model_path,
        optimizer=_tf1_optimizer(spec), schedule=_tf1_schedule(spec), regularizer=_tf1_regularizer(spec))
    evaluate = EvaluateSection(dataset_dir=e.eval_dataset_path, model_path=e.model_path, top_k=e.top_k,
                               batch_size=e.batch_size, n_workers=e.n_workers, center_crop=e.enable_center_crop)
    return ClassificationSpec(source="tf1", model=model, data=data, augment=augment, train=train,
                              evaluate=evaluate, inference=InferenceSection(model_path=e.model_path),
                              **({"automl_config": spec.automl_config} if spec.automl_config else {}))


def _tf1_optimizer(spec: Tf1Spec) -> OptimizerSection:
    o = spec.train_config.optimizer
    if o.adam is not None:
        return OptimizerSection(type="adam", beta1=o.adam.beta_1, beta2=o.adam.beta_2, epsilon=o.adam.epsilon,
                                time_decay=o.adam.decay)
    if o.rmsprop is not None:
        return OptimizerSection(type="rmsprop", rho=o.rmsprop.rho, epsilon=o.rmsprop.epsilon,
                                momentum=0.0, time_decay=o.rmsprop.decay)
    if o.sgd is not None:
        return OptimizerSection(type="sgd", momentum=o.sgd.momentum, nesterov=o.sgd.nesterov,
                                time_decay=o.sgd.decay)
    return OptimizerSection()


def _tf1_schedule(spec: Tf1Spec) -> ScheduleSection:
    lr = spec.train_config.lr_config
    if lr.step is not None:
        return ScheduleSection(type="step", learning_rate=lr.step.learning_rate, gamma=lr.step.gamma,
                               step_fraction=lr.step.step_size / 100.0)
    if lr.soft_anneal is not None:
        s = lr.soft_anneal
        return ScheduleSection(type="soft_anneal", learning_rate=s.learning_rate, soft_start=s.soft_start,
                               annealing_points=list(s.annealing_points), annealing_divider=s.annealing_divider)
    if lr.cosine is not None:
        c = lr.cosine
        return ScheduleSection(type="cosine", learning_rate=c.learning_rate, min_lr_ratio=c.min_lr_ratio,
                               soft_start=c.soft_start)
    o = spec.train_config.optimizer
    chosen = o.sgd or o.adam or o.rmsprop
    return ScheduleSection(type="constant", learning_rate=chosen.lr if chosen else 0.01)


def _tf1_regularizer(spec: Tf1Spec) -> RegularizerSection:
    r = spec.train_config.reg_config
    kind = r.type.lower()
    if kind in ("", "none") or r.weight_decay == 0:
        return RegularizerSection()
    scope = [s.strip().lower() for s in r.scope.split(",") if s.strip()]
    return RegularizerSection(type=kind, weight=r.weight_decay, scope=scope)  # type: ignore[arg-type]


def pyt_backbone(name: str) -> tuple[str, int]:
    """TAO PyTorch backbone names -> (arch, num_layers); names taokit cannot build pass through unchanged.

    TAO PyTorch's ResNet (mmpretrain's) is torchvision's layout, not the TF1 template.
    """
    match = re.fullmatch(r"resnet_?(\d+)", name)
    if match:
        return "torchvision_resnet", int(match.group(1))
    return name, 0


def from_pyt(spec: PytSpec) -> ClassificationSpec:
    d, a, t, head = spec.dataset, spec.dataset.augmentation, spec.train, spec.model.head
    arch, layers = pyt_backbone(spec.model.backbone.type)
    model = ModelSection(arch=arch, num_layers=layers, input_height=d.img_size, input_width=d.img_size,
                         freeze_backbone=spec.model.backbone.freeze_backbone,
                         freeze_bn=spec.model.backbone.freeze_norm,
                         pretrained_backbone_path=spec.model.backbone.pretrained_backbone_path,
                         arch_key="model.backbone.type")
    classes_file = d.classes_file
    if not classes_file and d.root_dir and (Path(d.root_dir) / "classes.txt").is_file():
        classes_file = str(Path(d.root_dir) / "classes.txt")
    data = DataSection(train_dir=d.train_dataset.images_dir, val_dir=d.val_dataset.images_dir,
                       test_dir=d.test_dataset.images_dir, classes_file=classes_file, num_classes=d.num_classes,
                       preprocess_mode="torch", mean=list(a.mean), std=list(a.std), n_workers=d.workers)
    train = TrainSection(
        batch_size=d.batch_size, epochs=t.num_epochs, seed=max(t.seed, 0),
        checkpoint_interval=t.checkpoint_interval, validation_interval=t.validation_interval,
        label_smoothing=head.loss.label_smooth_val, pretrained_model_path=t.pretrained_model_path,
        optimizer=OptimizerSection(type=t.optim.optim, momentum=t.optim.momentum, beta1=t.optim.betas[0],
                                   beta2=t.optim.betas[1], epsilon=1e-8, weight_decay=t.optim.weight_decay,
                                   no_decay_names=list(t.optim.skip_names)),
        schedule=_pyt_schedule(spec))
    # `tao deploy classification_pyt evaluate|inference` read trt_engine where the model side reads checkpoint
    evaluate = EvaluateSection(dataset_dir=d.test_dataset.images_dir,
                               model_path=spec.evaluate.checkpoint or spec.evaluate.trt_engine,
                               top_k=max(head.topk), batch_size=spec.evaluate.batch_size, n_workers=d.workers)
    inference = InferenceSection(model_path=spec.inference.checkpoint or spec.inference.trt_engine,
                                 batch_size=spec.inference.batch_size)
    return ClassificationSpec(source="pyt", model=model, data=data, augment=_pyt_augment(spec), train=train,
                              evaluate=evaluate, inference=inference,
                              **({"automl_config": spec.automl_config} if spec.automl_config else {}))


def _pyt_augment(spec: PytSpec) -> AugmentSection:
    a = spec.dataset.augmentation
    flip, rotate, color, scale = a.random_flip, a.random_rotate, a.random_color, a.with_scale_random_crop
    crop = {}
    if scale.enable:  # resize by s in scale_range, crop back to img_size: a crop fraction of 1/s
        crop = {"random_crop": True, "crop_fraction_min": 1.0 / max(scale.scale_range),
                "crop_fraction_max": 1.0 / min(scale.scale_range)}
    elif a.with_random_crop:
        crop = {"random_crop": True, "crop_fraction_min": 0.875, "crop_fraction_max": 1.0}
    return AugmentSection(
        hflip_probability=flip.hflip_probability if flip.enable else 0.0,
        vflip_probability=flip.vflip_probability if flip.enable else 0.0,
        rotate_probability=rotate.rotate_probability if rotate.enable else 0.0,
        rotate_angles=list(rotate.angle_list),
        color_probability=color.color_probability if color.enable else 0.0, brightness=color.brightness,
        contrast=color.contrast, saturation=color.saturation, hue=color.hue,
        mixup_alpha=a.mixup_alpha if a.mixup_cutmix else 0.0, **crop)


def _pyt_schedule(spec: PytSpec) -> ScheduleSection:
    o, epochs = spec.train.optim, spec.train.num_epochs
    p = o.policy_params
    if o.policy == "cosine":
        return ScheduleSection(type="cosine", learning_rate=o.lr, soft_start=min(o.warmup_epochs / epochs, 0.99))
    kind = {"step": "epoch_step", "multistep": "multistep", "linear": "linear"}[o.policy]
    return ScheduleSection(type=kind, learning_rate=o.lr, gamma=p.gamma, step_epochs=p.step_size,  # type: ignore[arg-type]
                           milestones=list(p.milestones), warmup_epochs=o.warmup_epochs)
