"""Behaviour figures: one panel of an experiment's analysis per figure (matplotlib, Agg).

Each panel is written three times under one stem: a PNG (embedded in the report), an SVG
(vector, for print: fonts drawn as paths, no date and fixed element ids, so a rerun writes the
same bytes) and a CSV of the data drawn, one row per point (:func:`curve_rows`). The report
links the SVG and the CSV under each figure and gives it a caption (:func:`caption`) that says
what is drawn and what to look at.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib
import numpy as np

matplotlib.use("Agg")  # no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402

from ..evaluation.records import POLICY, POPULATION_MEAN, Analysis, Curve  # noqa: E402
from ..paths import ensure_dir, write_bytes_atomic, write_text_atomic  # noqa: E402

__all__ = ["plot_analysis", "plain_text", "save_figure", "caption", "curve_rows", "write_csv"]

P = ParamSpec("P")
R = TypeVar("R")

_PERSONA_COLOURS = ["tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown",
                    "tab:pink", "tab:olive", "tab:cyan"]
_POPULATION_COLOUR = "tab:blue"
CROWD = 12
"""More personas than this in one panel (a population's people) are drawn as thin unlabelled
lines with their mean bold, and named in neither legend nor caption: a legend of 800 people was
a 27,000-pixel-tall PNG (the whole table of points is still in the panel's CSV)."""
_CROWD_COLOURS = {"policy": "tab:orange"}
_SOURCE_WORDS = {"policy": "learned policy", "demonstrations": "LLM's answers"}
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


def _draw_one_of_many(ax: plt.Axes, curve: Curve) -> None:
    """One of a crowd's personas: a thin, faint, unlabelled line in its source's colour."""
    ax.plot(curve.x, curve.y, color=_CROWD_COLOURS.get(curve.source, _POPULATION_COLOUR),
            ls="--" if curve.source == POLICY else "-", lw=0.6, alpha=0.15)


def _draw_means(ax: plt.Axes, curves: list[Curve]) -> None:
    """Per source (and abscissae), the mean over the crowd's personas, bold and labelled.

    A study's own population-mean curve (:data:`POPULATION_MEAN`) is drawn as it is.
    """
    groups: dict[tuple[str, tuple[Any, ...]], list[Curve]] = defaultdict(list)
    given: dict[tuple[str, tuple[Any, ...]], Curve] = {}
    for curve in curves:
        key = (curve.source, tuple(curve.x))
        if curve.persona == POPULATION_MEAN:
            given[key] = curve
        else:
            groups[key].append(curve)
    for (source, x), group in groups.items():
        n = len({c.persona for c in group})
        if (source, x) in given:
            y = np.asarray(given[source, x].y, dtype=float)
        else:
            values = np.array([c.y for c in group], dtype=float)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a point nobody has: NaN
                y = np.nanmean(values, axis=0)
        ax.plot(list(x), y, color=_CROWD_COLOURS.get(source, _POPULATION_COLOUR),
                ls="--" if source == POLICY else "-", lw=2.2,
                label=f"{_SOURCE_WORDS.get(source, source)}: mean of {n} personas")


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


def save_figure(fig: plt.Figure, path: Path, *, svg: bool = False, **kwargs: Any) -> Path:
    """Render ``fig`` as PNG and write it atomically to ``path``; close it; return the path.

    ``svg``: also write it as SVG beside the PNG (same stem), reproducibly (no date, fixed ids).
    """
    try:
        renders = {"png": io.BytesIO()}
        fig.savefig(renders["png"], format="png", **kwargs)
        if svg:
            renders["svg"] = io.BytesIO()
            with plt.rc_context({"svg.hashsalt": "subrational", "svg.fonttype": "path"}):
                fig.savefig(renders["svg"], format="svg", metadata={"Date": None}, **kwargs)
    finally:
        plt.close(fig)
    if "svg" in renders:
        write_bytes_atomic(path.with_suffix(".svg"), renders["svg"].getvalue(), what="the figure")
    return write_bytes_atomic(path, renders["png"].getvalue(), what="the figure")


_CSV_COLUMNS = ("panel", "source", "persona", "label", "x", "y", "y_low", "y_high", "xlabel",
                "ylabel")


def curve_rows(curve: Curve | Mapping[str, Any], **extra: Any) -> list[dict[str, Any]]:
    """One row per point of ``curve`` (a :class:`Curve` or its ``summary.json`` form)."""
    get = curve.get if isinstance(curve, Mapping) else lambda k, d=None: getattr(curve, k, d)
    low, high = get("y_low") or None, get("y_high") or None
    return [{**extra, **{k: get(k, "") for k in ("panel", "source", "persona", "label")},
             "x": x, "y": y, "y_low": "" if low is None else low[i],
             "y_high": "" if high is None else high[i], "xlabel": get("xlabel", ""),
             "ylabel": get("ylabel", "")}
            for i, (x, y) in enumerate(zip(get("x"), get("y"), strict=True))]


def write_csv(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write ``rows`` (the columns of :func:`curve_rows`, extra ones first) as CSV."""
    rows = list(rows)
    columns = list(dict.fromkeys([*(k for r in rows for k in r if k not in _CSV_COLUMNS),
                                  *_CSV_COLUMNS]))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_text_atomic(path, buffer.getvalue(), what="the figure data")


_LOOK_AT = {
    "Acceptance curve": "Look at where each solid line crosses P = 0.5 (the rejection point) "
                        "next to the black human curve, and whether the fair persona rejects "
                        "the lowest offers while every line reaches 1 at a 50/50 split.",
    "Survival: P(still waiting)": "Look at how fast each age's line falls: a 2-year-old should "
                                  "eat at once, a 5-year-old keep waiting; a flat line that "
                                  "drops at the end is a time-consistent (exponential) waiter.",
    "Full wait by age": "Look at whether the share who wait the full 15 minutes rises with age "
                        "and falls inside the children's band.",
    "P(gamble) by round": "Look at whether the lines stay below 0.5 at fair odds (risk aversion) "
                          "and fall as the stake grows, unlike the risk-neutral baseline.",
    "Flips taken": "Look at how many flips each stake takes before stopping; a risk-neutral "
                   "player is indifferent, a CPT one stops early.",
    "Cumulative work by day": "Look at whether the work piles up near the deadline (lines that "
                              "rise late), as the naive beta-delta agent and the students of "
                              "the human line do, and whether lower GPAs rise later.",
    "Finishing time by GPA": "Look at whether lower GPAs finish closer to the deadline.",
}


def caption(panel: str, curves: Iterable[Curve | Mapping[str, Any]]) -> str:
    """What a figure draws and what to look at, in one or two sentences."""
    def get(c: Any, key: str) -> Any:
        return c.get(key) if isinstance(c, Mapping) else getattr(c, key)

    curves = list(curves)
    personas = list(dict.fromkeys(get(c, "persona") for c in curves
                                  if get(c, "source") not in ("human", "baseline")
                                  and get(c, "persona")
                                  and get(c, "persona") != POPULATION_MEAN))
    humans = [get(c, "label") for c in curves if get(c, "source") == "human"]
    baselines = list(dict.fromkeys(get(c, "label") for c in curves
                                   if get(c, "source") == "baseline"))
    first = curves[0] if curves else {}
    named = (f" ({len(personas)} personas: a thin line each, their mean bold)"
             if len(personas) > CROWD else f" ({', '.join(personas)})" if personas else "")
    parts = [f"{get(first, 'ylabel') or 'the statistic'} against "
             f"{get(first, 'xlabel') or 'the state'}. Solid: the LLM's answers"
             + named + "; dashed: the learned policy"]
    if humans:
        parts.append(f"black: {'; '.join(humans)}")
    if baselines:
        parts.append(f"grey: baselines ({', '.join(baselines)})")
    look = _LOOK_AT.get(panel, "Look at whether the solid lines follow the human reference and "
                               "how far apart the personas' lines are: lines that lie on each "
                               "other mean the persona changes nothing.")
    return "; ".join(parts) + ". " + look


def plain_text(fn: Callable[P, R]) -> Callable[P, R]:
    """Draw with ``$`` as a dollar sign ("$10 stake"), not as the start of mathtext."""
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with plt.rc_context({"text.parse_math": False}):
            return fn(*args, **kwargs)

    return wrapper


@plain_text
def plot_analysis(analysis: Analysis, folder: Path, prefix: str) -> dict[str, Path]:
    """Write one figure per panel into ``folder``; return panel title -> PNG path.

    The SVG and the CSV of each panel lie beside its PNG, with the same stem.
    """
    ensure_dir(folder, what="the figures folder")
    panels: dict[str, list[Curve]] = defaultdict(list)
    for curve in analysis.curves:
        panels[curve.panel].append(curve)
    paths: dict[str, Path] = {}
    for panel, curves in panels.items():
        personas = sorted({c.persona for c in curves if c.persona and c.persona != POPULATION_MEAN})
        colours = {p: _PERSONA_COLOURS[i % len(_PERSONA_COLOURS)] for i, p in enumerate(personas)}
        fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=110)
        crowd = len(personas) > CROWD
        baseline_i = 0
        for curve in curves:
            style = _BASELINE_STYLES[baseline_i % len(_BASELINE_STYLES)]
            baseline_i += curve.source == "baseline"
            if crowd and curve.persona and curve.source not in ("human", "baseline"):
                if curve.persona != POPULATION_MEAN:
                    _draw_one_of_many(ax, curve)
                continue
            # A curve over all personas (e.g. full wait by age) is one line per source.
            _draw(ax, curve, colours.get(curve.persona, _POPULATION_COLOUR), style)
        if crowd:
            _draw_means(ax, [c for c in curves if c.persona
                             and c.source not in ("human", "baseline")])
        first = curves[0]
        ax.set(xlabel=first.xlabel, ylabel=first.ylabel, title=panel, ylim=(-0.03, 1.03))
        ax.grid(alpha=0.3)
        _legend(ax)
        fig.tight_layout()
        stem = folder / f"{prefix}-{_slug(panel)}"
        write_csv(stem.with_suffix(".csv"), [r for c in curves for r in curve_rows(c)])
        paths[panel] = save_figure(fig, stem.with_suffix(".png"), svg=True, bbox_inches="tight")
    return paths
