"""Behaviour figures: one PNG per panel of an experiment's analysis (matplotlib, Agg)."""

from __future__ import annotations

import functools
import io
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402

from ..evaluation.records import POLICY, Analysis, Curve  # noqa: E402
from ..paths import ensure_dir, write_bytes_atomic  # noqa: E402

__all__ = ["plot_analysis", "plain_text", "save_figure"]

P = ParamSpec("P")
R = TypeVar("R")

_PERSONA_COLOURS = ["tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown",
                    "tab:pink", "tab:olive", "tab:cyan"]
_POPULATION_COLOUR = "tab:blue"
_BASELINE_STYLES = [":", "-.", (0, (1, 3)), (0, (5, 2, 1, 2))]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _draw(ax: plt.Axes, curve: Curve, colour: str, style: object) -> None:
    if curve.source == "human":
        _draw_human(ax, curve)
        return
    if curve.source == "baseline":
        ax.plot(curve.x, curve.y, color="grey", ls=style, lw=1.5, label=curve.label)
        return
    dashed = curve.source == POLICY
    ax.plot(curve.x, curve.y, color=colour, ls="--" if dashed else "-", lw=1.8,
            marker=None if dashed else ".", label=curve.label)


def _draw_human(ax: plt.Axes, curve: Curve) -> None:
    low, high = curve.y_low, curve.y_high
    if len(curve.x) == 1 and low is not None and high is not None:
        # A single reference point: an error bar, since an area needs two abscissae.
        err = [[curve.y[0] - low[0]], [high[0] - curve.y[0]]]
        ax.errorbar(curve.x, curve.y, yerr=err, fmt="o", color="black", capsize=5, lw=2,
                    label=f"{curve.label} ({curve.band_label or 'range'})", zorder=5)
        return
    ax.plot(curve.x, curve.y, "o-", color="black", lw=2, label=curve.label, zorder=5)
    if low is not None and high is not None:
        ax.fill_between(curve.x, low, high, color="black", alpha=0.15,
                        label=curve.band_label or "human range")


def _legend(ax: plt.Axes) -> None:
    # Long labels beside the plot squeeze it to a sliver: put them underneath instead.
    labels = ax.get_legend_handles_labels()[1]
    if max((len(label) for label in labels), default=0) <= 36:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    else:
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)


def save_figure(fig: plt.Figure, path: Path, **kwargs: Any) -> Path:
    """Render ``fig`` as PNG and write it atomically to ``path``; close it; return the path."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", **kwargs)
    finally:
        plt.close(fig)
    return write_bytes_atomic(path, buffer.getvalue(), what="the figure")


def plain_text(fn: Callable[P, R]) -> Callable[P, R]:
    """Draw with ``$`` as a dollar sign ("$10 stake"), not as the start of mathtext."""
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with plt.rc_context({"text.parse_math": False}):
            return fn(*args, **kwargs)

    return wrapper


@plain_text
def plot_analysis(analysis: Analysis, folder: Path, prefix: str) -> dict[str, Path]:
    """Write one figure per panel into ``folder``; return panel title -> path."""
    ensure_dir(folder, what="the figures folder")
    panels: dict[str, list[Curve]] = defaultdict(list)
    for curve in analysis.curves:
        panels[curve.panel].append(curve)
    paths: dict[str, Path] = {}
    for panel, curves in panels.items():
        personas = sorted({c.persona for c in curves if c.persona})
        colours = {p: _PERSONA_COLOURS[i % len(_PERSONA_COLOURS)] for i, p in enumerate(personas)}
        fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=110)
        baseline_i = 0
        for curve in curves:
            style = _BASELINE_STYLES[baseline_i % len(_BASELINE_STYLES)]
            baseline_i += curve.source == "baseline"
            # A curve over all personas (e.g. full wait by age) is one line per source.
            _draw(ax, curve, colours.get(curve.persona, _POPULATION_COLOUR), style)
        first = curves[0]
        ax.set(xlabel=first.xlabel, ylabel=first.ylabel, title=panel, ylim=(-0.03, 1.03))
        ax.grid(alpha=0.3)
        _legend(ax)
        fig.tight_layout()
        paths[panel] = save_figure(fig, folder / f"{prefix}-{_slug(panel)}.png",
                                   bbox_inches="tight")
    return paths
