"""`tao dataset validate detectnet -e SPEC`: the dataset as training will read it, before a long run."""

from __future__ import annotations

from pathlib import Path

from taokit.data.records import BoxLabel, DatasetReport, ImageRecord
from taokit.errors import DataError
from taokit.results import Result, Table
from taokit.tasks.common.dataset_check import in_both_splits, save_histograms, scan_images
from taokit.tasks.detectnet.augment_preview import save_preview, small_object_advice
from taokit.tasks.detectnet.data import load_training_records
from taokit.tasks.detectnet.dataset import to_samples
from taokit.tasks.detectnet.dataset_convert import plan_conversion
from taokit.tasks.detectnet.network import arch_from_spec
from taokit.tasks.detectnet.spec import DatasetExportConfig, DetectNetExperiment


def validate_dataset(spec: DetectNetExperiment | DatasetExportConfig, out: Path | None) -> Result:
    """From a training spec (-e: its sources, folds and target classes) or a dataset_convert spec (-d:
    the folds the conversion would write, under their mapped class names)."""
    if isinstance(spec, DatasetExportConfig):
        return _validate_conversion(spec, out)
    split = load_training_records(spec.dataset_config)
    names, mapping = spec.class_names, spec.dataset_config.target_class_mapping
    mapped = DatasetReport()
    train, val = to_samples(split.train, names, mapping, mapped), to_samples(split.val, names, mapping)
    counts = {name: [0, 0] for name in names}
    for column, samples in ((0, train), (1, val)):
        for sample in samples:
            for class_id in sample.class_ids:
                counts[names[int(class_id)]][column] += 1
    scan = scan_images(Path(r.image) for r in [*split.train, *split.val])
    boxes = [b for r in [*split.train, *split.val] for b in r.boxes]
    problems = [*scan.problems(), *split.report.warnings(), *mapped.warnings(),
                *in_both_splits((Path(r.image) for r in split.train), (Path(r.image) for r in split.val))]
    if not val:
        problems.append("no validation images: training will not validate (set validation_fold or "
                        "validation_data_source)")
    missing = [n for n, (a, _) in counts.items() if a == 0]
    if missing:
        problems.append(f"target classes without a training object: {', '.join(missing)}; check target_class_mapping")
    grid_hw = arch_from_spec(spec).grid_hw  # the grid the spec's model predicts on
    advice = small_object_advice(spec, train, grid_hw)
    lines = [f"training: {len(train)} images, validation: {len(val)} images", f"{scan.images} image(s) decoded",
             *problems, *advice, *_box_histograms(boxes, out)]
    if out is not None and train and save_preview(spec, train, grid_hw, out / "augmentation_preview.png"):
        lines.append(f"what the network sees (each augmentation alone, then as training draws them; tinted "
                     f"cells are foreground targets): {out / 'augmentation_preview.png'}")
    table = Table("objects per target class", ["class", "training", "validation"],
                  [[n, a, b] for n, (a, b) in counts.items()])
    return Result(lines=lines, tables=[table], data={**scan.data(), "problems": problems, "advice": advice})


def _validate_conversion(spec: DatasetExportConfig, out: Path | None) -> Result:
    report = DatasetReport()
    folds = plan_conversion(spec, strict=False, report=report).folds
    if not any(folds):
        raise DataError("no images found; check the dataset paths of the dataset_convert spec")
    source = spec.kitti_config or spec.coco_config or spec.yolo_config
    root = Path(source.root_directory_path)  # type: ignore[union-attr]
    records: list[ImageRecord] = [r for fold in folds for r in fold]
    scan = scan_images(root / r.image for r in records)
    problems = [*scan.problems(), *report.warnings()]
    lines = [", ".join(f"fold {i}: {len(fold)} images" for i, fold in enumerate(folds)),
             f"{scan.images} image(s) decoded", *problems]
    names = sorted({b.class_name for r in records for b in r.boxes})
    counts = {name: [0] * len(folds) for name in names}
    for i, fold in enumerate(folds):
        for record in fold:
            for box in record.boxes:
                counts[box.class_name][i] += 1
    lines += _box_histograms([b for r in records for b in r.boxes], out)
    table = Table("objects per class and fold", ["class", *(f"fold {i}" for i in
                  range(len(folds)))], [[n, *c] for n, c in counts.items()])
    return Result(lines=lines, tables=[table], data={**scan.data(), "problems": problems})


def _box_histograms(boxes: list[BoxLabel], out: Path | None) -> list[str]:
    if out is None or not boxes:
        return []
    widths, heights = [b.width for b in boxes], [b.height for b in boxes]
    save_histograms(out / "box_sizes.png", {"width (px)": widths, "height (px)": heights,
                                            "aspect (w/h)": [w / max(h, 1e-6) for w, h in zip(widths, heights, strict=True)]},
                    f"{len(boxes)} labelled boxes")
    return [f"box sizes and aspects: {out / 'box_sizes.png'}"]
