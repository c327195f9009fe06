"""The population figure of a study: its people's outcome distribution next to the human one.

One panel per source (the LLM's answers, the learned policy): bars of the mixture of the
personas' own distributions of the main outcome (``population.sources.<s>.distribution``),
and the human reference drawn on the same axis as black vertical lines (the statistics the
study marks, e.g. the median minimum acceptable offer) or, for a band, a grey span. Written as
PNG, SVG and CSV like every figure (:mod:`.figures`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..paths import ensure_dir
from .figures import plt, save_figure, write_csv

__all__ = ["plot_population"]

_COLOURS = {"demonstrations": "tab:blue", "policy": "tab:orange"}


def _human_marks(block: Mapping[str, Any]) -> list[tuple[float, str]]:
    human = block.get("human") or {}
    stats = human.get("statistics") or {}
    out = []
    for name in block.get("marks") or []:
        value = stats.get(name)
        if isinstance(value, Mapping):
            value = value.get("value")
        if value is not None:
            who = human.get("label", "humans")
            out.append((float(value), f"{who}: {name.replace('_', ' ')} {float(value):g}"))
    return out


def plot_population(block: Mapping[str, Any] | None, folder: Path, prefix: str) -> Path | None:
    """Draw ``block`` (a study's ``population`` in summary.json); ``None`` when nothing to draw."""
    if not block:
        return None
    shown = {s: d["distribution"] for s, d in block.get("sources", {}).items()
             if d.get("distribution")}
    if not shown:
        return None
    fig, axes = plt.subplots(1, len(shown), figsize=(5.2 * len(shown), 3.4), squeeze=False,
                             sharey=True)
    rows: list[dict[str, Any]] = []
    human = block.get("human") or {}
    for ax, (source, dist) in zip(axes[0], shown.items(), strict=True):
        x, p = dist["x"], dist["p"]
        width = min((b - a for a, b in zip(x, x[1:], strict=False)), default=1.0) * 0.8
        ax.bar(x, p, width=width, color=_COLOURS.get(source, "tab:blue"), alpha=0.8,
               label=f"{source} ({block.get('people')} people)")
        if human.get("band"):
            lo, hi = human["band"]
            ax.axvspan(lo, hi, color="grey", alpha=0.2, label=f"human band [{lo:g}, {hi:g}]")
        for value, label in _human_marks(block):
            ax.axvline(value, color="black", lw=1.5, ls="--", label=label)
        ax.set_title(source)
        ax.set_xlabel(block.get("support_label") or "outcome")
        ax.legend(fontsize=7)
        rows.extend({"source": source, "x": a, "p": b} for a, b in zip(x, p, strict=True))
    axes[0][0].set_ylabel("share of the population")
    stem = ensure_dir(folder, what="the figures folder") / f"{prefix}-population"
    write_csv(stem.with_suffix(".csv"), rows)
    return save_figure(fig, stem.with_suffix(".png"), svg=True, bbox_inches="tight")
