"""`evaluate` for classification: any backend on an ImageFolder; loss, top-k, per-class report, confusion."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import DataLoader

from taokit.errors import DataError, SpecError
from taokit.metrics.classification import ClassificationMetrics, classification_metrics
from taokit.requests import EvaluateRequest, ModelRequest
from taokit.results import EvaluationResult, Table
from taokit.tasks.classification.data import (
    FolderReport,
    check_classmap,
    class_folders,
    class_order,
    read_class_file,
    read_image_folder,
)
from taokit.tasks.classification.dataset import EvalDataset
from taokit.tasks.classification.network import preprocess_of
from taokit.tasks.classification.runner import ClassifierRunner, ModelInfo, open_runner
from taokit.tasks.classification.spec import ClassificationSpec
from taokit.tasks.classification.transforms import EvalTransform
from taokit.tasks.common.evaluate import write_metrics

log = logging.getLogger("taokit.classification")
MAX_MATRIX_ROWS = 20  # larger confusion matrices go to the PNG only


def fallback_info(spec: ClassificationSpec | None, classmap: Path | None, data_dir: Path | None) -> ModelInfo | None:
    """What the spec and classmap say about a model that does not describe itself (a foreign ONNX)."""
    if spec is None:
        return None
    if classmap is not None:
        classes = read_class_file(classmap)
    elif spec.data.train_dir and Path(spec.data.train_dir).is_dir():
        classes = class_order(Path(spec.data.train_dir), spec.data.classes_file)[0]
    else:
        classes = class_folders(data_dir) if data_dir is not None and data_dir.is_dir() else []
    return ModelInfo(tuple(classes), spec.input_hw, preprocess_of(spec), spec.model.interpolation,
                     spec.evaluate.center_crop)


def open_checked(model_path: Path, spec: ClassificationSpec | None, request: ModelRequest, data_dir: Path | None,
                 ) -> ClassifierRunner:
    """The model, with its classes checked against -cm and its preprocessing against the spec."""
    classmap = request.classmap
    runner = open_runner(model_path, backend=request.backend, device=request.device,
                         fallback=fallback_info(spec, classmap, data_dir))
    if classmap is not None:
        check_classmap(classmap, runner.info.class_names)
    if spec is not None and preprocess_of(spec) != runner.info.preprocess:
        log.warning("%s was trained with %s preprocessing; the spec's %s is not used", model_path,
                    runner.info.preprocess.mode, spec.data.preprocess_mode)
    return runner


def predict_folder(runner: ClassifierRunner, samples: list[tuple[Path, int]], center_crop: bool, batch: int,
                   workers: int) -> np.ndarray:
    info = runner.info
    offset, factor = (v[None, :, None, None] for v in info.preprocess.channel_params())
    dataset = EvalDataset(samples, EvalTransform(info.input_hw, info.interpolation, center_crop),
                          info.preprocess.bgr)
    outputs = []
    for images, _ in DataLoader(dataset, batch_size=batch, num_workers=workers):
        outputs.append(runner.predict(((images.numpy().astype(np.float32) - offset) * factor).astype(np.float32)))
    return np.concatenate(outputs) if outputs else np.zeros((0, len(info.class_names)), np.float32)


def _data_dir(spec: ClassificationSpec, request: EvaluateRequest) -> Path:
    if request.image_dir is not None:
        return Path(request.image_dir)
    if request.use_training_set:
        return Path(spec.data.train_dir)
    if not spec.eval_dir:
        raise SpecError("no evaluation data: set eval_config.eval_dataset_path (or dataset.test_dataset) or "
                        "pass -i/--image_dir")
    return Path(spec.eval_dir)


def run_evaluate(spec: ClassificationSpec, request: EvaluateRequest) -> EvaluationResult:
    model_path = request.model_path
    data_dir = _data_dir(spec, request)
    if request.label_dir is not None:
        log.warning("-l/--label_dir is not used by classification: labels are the class folder names")
    with open_checked(model_path, spec, request, data_dir) as runner:
        info = runner.info
        report = FolderReport()
        folder = read_image_folder(data_dir, list(info.class_names), split=data_dir.name, report=report,
                                   strict=request.strict)
        for warning in report.warnings():
            log.warning(warning)
        if not folder.samples:
            raise DataError(f"{data_dir}: no images to evaluate on")
        log.info("evaluating %s (%s) on %d images of %s", model_path, runner.backend.name, len(folder.samples),
                 data_dir)
        probs = predict_folder(runner, folder.samples, spec.evaluate.center_crop,
                               request.batch_size or spec.eval_batch_size, min(spec.evaluate.n_workers, 1))
    labels = np.asarray([label for _, label in folder.samples])
    metrics = classification_metrics(probs, labels, list(info.class_names), top_k=(spec.evaluate.top_k,))
    k = spec.evaluate.top_k
    lines = [f"loss {metrics.loss:.4f}, accuracy {metrics.accuracy:.4f}, top-{k} accuracy {metrics.top_k[k]:.4f} "
             f"({len(labels)} images, {runner.backend.name})"]
    tables = [_report_table(metrics)]
    if len(info.class_names) <= MAX_MATRIX_ROWS:
        tables.append(Table("confusion matrix (rows: true class, columns: predicted)", ["", *info.class_names],
                            [[n, *row] for n, row in zip(info.class_names, metrics.confusion.tolist(), strict=True)]))
    data = metrics.to_dict()
    if request.results_dir is not None:
        from taokit.tasks.classification.plots import save_confusion_matrix

        out = Path(request.results_dir)
        write_metrics(out, {**data, "model": str(model_path), "dataset": str(data_dir)})
        save_confusion_matrix(metrics.confusion, list(info.class_names), out / "confusion_matrix.png")
        lines += [f"metrics: {out / 'metrics.json'}", f"confusion matrix: {out / 'confusion_matrix.png'}"]
    headline = {"accuracy": metrics.accuracy, f"top_{k}_accuracy": metrics.top_k[k],
                **({"loss": metrics.loss} if metrics.loss is not None else {})}
    return EvaluationResult(lines=lines, tables=tables, data={"metrics": data}, metrics=headline)


def _report_table(metrics: ClassificationMetrics) -> Table:
    rows: list[list[Any]] = [[n, metrics.precision[i], metrics.recall[i], metrics.f1[i], int(metrics.support[i])]
                             for i, n in enumerate(metrics.class_names)]
    for name, avg in metrics.averages().items():
        rows.append([name, avg["precision"], avg["recall"], avg["f1"], int(metrics.support.sum())])
    return Table("classification report", ["class", "precision", "recall", "f1-score", "support"], rows)
