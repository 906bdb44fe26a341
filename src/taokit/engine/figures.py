"""PNG reports with matplotlib's object API on an Agg canvas: no pyplot state, and the backend of a user who
imports taokit into a notebook stays theirs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(figsize: tuple[float, float], ncols: int = 1, dpi: int = 100) -> tuple[Figure, Any]:
    """A figure and its axes (one, or an array of `ncols`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(1, ncols)


def save_png(fig: Figure, path: Path) -> None:
    """Lay the figure out and write it, replacing `path` atomically."""
    from taokit.engine.files import atomic_path

    fig.tight_layout()
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, format="png")
