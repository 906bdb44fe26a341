"""The confusion matrix as a PNG (matplotlib, imported only when a plot is written)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def save_confusion_matrix(confusion: np.ndarray, class_names: list[str], path: Path) -> None:
    """Counts in each cell, rows normalised for the colour so that rare classes stay readable."""
    from taokit.engine.figures import new_figure, save_png

    n = len(class_names)
    rates = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    size = min(max(4.0, 0.5 * n + 2), 24.0)
    fig, ax = new_figure((size, size * 0.9))
    ax.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(n), class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"confusion matrix ({int(confusion.sum())} images)")
    if n <= 30:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(int(confusion[i, j])), ha="center", va="center", fontsize=8,
                        color="white" if rates[i, j] > 0.5 else "black")
    save_png(fig, path)
