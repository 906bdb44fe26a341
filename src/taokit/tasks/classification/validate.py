"""`tao dataset validate classification -e SPEC`: the ImageFolder dataset as training will read it."""

from __future__ import annotations

from pathlib import Path

from taokit.results import Result, Table
from taokit.tasks.classification.spec import ClassificationSpec
from taokit.tasks.classification.training import load_folders
from taokit.tasks.common.dataset_check import in_both_splits, save_histograms, scan_images


def validate_dataset(spec: ClassificationSpec, out: Path | None) -> Result:
    train, val, report = load_folders(spec, strict=False)
    val_samples = val.samples if val is not None else []
    scan = scan_images(p for p, _ in [*train.samples, *val_samples])
    problems = [*scan.problems(), *report.warnings(),
                *in_both_splits((p for p, _ in train.samples), (p for p, _ in val_samples))]
    if val is None:
        problems.append("no validation folder: training will not validate (set the validation folder in the spec)")
    lines = [f"training: {len(train.samples)} images, validation: {len(val_samples)} images",
             f"{scan.images} image(s) decoded", *problems]
    train_counts, val_counts = train.counts(), val.counts() if val is not None else {}
    largest, smallest = max(train_counts.values()), min(train_counts.values())
    if smallest and largest / smallest >= 10:
        lines.append(f"classes are imbalanced ({largest} vs {smallest} training images): consider resampling "
                     "or class weights")
    if out is not None:
        save_histograms(out / "class_counts.png", {"training images per class": list(train_counts.values())},
                        f"{len(train_counts)} classes")
        lines.append(f"images per class: {out / 'class_counts.png'}")
    table = Table("images per class", ["class", "training", "validation"],
                  [[name, n, val_counts.get(name, 0)] for name, n in train_counts.items()])
    return Result(lines=lines, tables=[table], data={**scan.data(), "problems": problems})
