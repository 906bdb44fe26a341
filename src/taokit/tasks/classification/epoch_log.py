"""Per-epoch bookkeeping of a classification run: training accuracy and TAO's training.csv.

training.csv is what Keras's CSVLogger writes for TAO (one row per epoch, keys sorted); it is rewritten
atomically every epoch and keeps the rows of earlier epochs when a run resumes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import torch

from taokit.engine.files import atomic_write_text

COLUMNS = ("epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss")


class EpochMeter:
    """Running training accuracy over one epoch (against the dominant label under mixup)."""

    def __init__(self) -> None:
        self.correct = torch.zeros((), dtype=torch.long)
        self.seen = 0

    def reset(self) -> None:
        self.correct, self.seen = torch.zeros((), dtype=torch.long), 0

    def add(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        self.correct = self.correct.to(logits.device) + (logits.argmax(1) == labels).sum()
        self.seen += int(labels.shape[0])

    @property
    def accuracy(self) -> float:
        return float(self.correct) / max(self.seen, 1)


class TrainingCsv:
    """training.csv: one row per epoch from the fit loop's KPIs and the epoch's training accuracy."""

    def __init__(self, path: Path, meter: EpochMeter) -> None:
        self.path, self.meter = path, meter

    def write(self, epoch: int, kpi: dict[str, Any], lr: float) -> None:
        rows = [r for r in self._read() if int(r["epoch"]) < epoch]
        rows.append({"epoch": epoch, "accuracy": self.meter.accuracy, "loss": kpi.get("loss", ""),
                     "lr": lr, "val_accuracy": kpi.get("val_accuracy", ""),
                     "val_loss": kpi.get("val_loss", "")})
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path, out.getvalue())

    def _read(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        with self.path.open(newline="", encoding="utf-8") as handle:
            return [r for r in csv.DictReader(handle) if (r.get("epoch") or "").isdigit()]
