"""Figures for verdicts: matplotlib with the non-interactive Agg backend."""

from __future__ import annotations

from pathlib import Path

__all__ = ["new_figure", "save_figure"]


def new_figure(width: float = 5.5, height: float = 4.0):
    """A (figure, axes) pair drawn off-screen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def save_figure(fig, path: Path | None) -> list[str]:
    """Save and close `fig`; return [path] (or [] when `path` is None)."""
    import matplotlib.pyplot as plt

    try:
        if path is None:
            return []
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        return [str(path)]
    finally:
        plt.close(fig)
