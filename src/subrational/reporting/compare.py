"""``subrational compare``: several runs side by side in one HTML page.

Runs may differ in model, method, wording or seed. The page reads only each finished run's
``summary.json`` and ``manifest.json`` (an unfinished, damaged or mixed run directory is refused
in one line): the scorecards, calls, tokens and cost per study and per run (model; a run from
before cost was recorded says so), the structural fits with their
intervals, and the behaviour curves overlaid (small multiples, one subplot per persona, one
colour per run; solid lines are the LLM's own answers, dashed the learned policy), under a colour
legend, each with its SVG and the CSV of its data beside the PNG. The page is static: it needs
no script and no network. With ``leaderboard=True`` (``subrational run --model A --model B``:
one run per model) it opens with a human-likeness leaderboard per study
(:mod:`~subrational.reporting.leaderboard`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from ..accounting import cost_view  # noqa: E402
from ..errors import ConfigError, PathError  # noqa: E402
from ..evaluation.records import LEARNED_SOURCES, POLICY  # noqa: E402
from ..paths import ensure_dir, write_text_atomic  # noqa: E402
from ..rundir import RunSummary, read_run  # noqa: E402
from .figures import _slug, curve_rows, plain_text, save_figure, write_csv  # noqa: E402
from .html import _ENV, _embed  # noqa: E402
from .leaderboard import leaderboards  # noqa: E402

__all__ = ["write_comparison"]

_RUN_COLOURS = ["tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown"]

def _fit_rows(runs: list[RunSummary]) -> list[dict[str, Any]]:
    rows: dict[tuple, dict[str, Any]] = {}
    for i, run in enumerate(runs):
        for exp_id, exp in run.summary["experiments"].items():
            for fit in exp.get("fits", []):
                for est in fit["estimates"]:
                    key = (exp_id, fit["model"], est["name"], fit["source"], fit["persona"])
                    row = rows.setdefault(key, {"study": exp["title"], "model": fit["model"],
                                                "name": est["name"], "source": fit["source"],
                                                "persona": fit["persona"], "human":
                                                (est["human_low"], est["human_high"]),
                                                "runs": [None] * len(runs)})
                    row["runs"][i] = {**est, "misfit": fit.get("misfit")}
    return list(rows.values())


def _curve_figures(runs: list[RunSummary], out: Path) -> list[dict[str, Any]]:
    panels: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    titles = {}
    for i, run in enumerate(runs):
        for exp_id, exp in run.summary["experiments"].items():
            titles[exp_id] = exp["title"]
            for curve in exp.get("curves", []):
                if curve["source"] in (*LEARNED_SOURCES, "human"):
                    panels[(exp_id, curve["panel"])].append((i, curve))
    figures = []
    for (exp_id, panel), curves in panels.items():
        path = _small_multiples(exp_id, panel, curves, runs, out)
        write_csv(path.with_suffix(".csv"), [r for i, c in curves
                                             for r in curve_rows(c, run=runs[i].path.name)])
        figures.append({"study": titles[exp_id], "panel": panel, "src": _embed(path),
                        "file": path.name, "svg": path.with_suffix(".svg").name,
                        "csv": path.with_suffix(".csv").name})
    return figures


@plain_text
def _small_multiples(exp_id: str, panel: str, curves: list[tuple[int, dict[str, Any]]],
                     runs: list[RunSummary], out: Path) -> Path:
    personas = sorted({c["persona"] for _, c in curves if c["source"] != "human"}) or [""]
    cols = min(4, len(personas))
    rows = -(-len(personas) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), dpi=100,
                             squeeze=False, sharex=True, sharey=True)
    for ax, persona in zip(axes.flat, personas, strict=False):
        for i, c in curves:
            if c["source"] == "human":
                if i == 0:
                    ax.plot(c["x"], c["y"], "o-", color="black", lw=1.5, ms=3)
                continue
            if c["persona"] != persona:
                continue
            ax.plot(c["x"], c["y"], color=_RUN_COLOURS[i % len(_RUN_COLOURS)],
                    ls="--" if c["source"] == POLICY else "-", lw=1.4)
        ax.set_title(persona or "all", fontsize=9)
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(personas):]:
        ax.set_visible(False)
    first = curves[0][1]
    fig.supxlabel(first.get("xlabel", ""), fontsize=9)
    fig.supylabel(first.get("ylabel", ""), fontsize=9)
    fig.suptitle(panel, fontsize=11)
    fig.tight_layout()
    return save_figure(fig, out / f"compare-{exp_id}-{_slug(panel)}.png", svg=True)


def write_comparison(run_dirs: list[Path], out: Path, *, leaderboard: bool = False) -> Path:
    """Compare the runs in ``run_dirs``; write ``out`` (an .html file) and its figures beside it.

    ``leaderboard`` adds the models ranked per study by distance to humans, for runs of one
    plan with one model each.
    """
    if len(run_dirs) < 1:
        raise ConfigError("give at least one run directory to compare")
    if out.is_dir():
        raise PathError(f"--out {out} is a directory; give the HTML file to write, e.g. "
                        f"{out / 'compare.html'}")
    runs = [read_run(Path(p)) for p in run_dirs]
    ensure_dir(out.parent, what="the folder of --out")
    studies = list(dict.fromkeys(e for r in runs for e in r.summary["experiments"]))
    titles = {sid: exp["title"] for r in runs for sid, exp in r.summary["experiments"].items()}
    html = _ENV.get_template("compare.html.j2").render(
        runs=runs, colours=[to_hex(c) for c in _RUN_COLOURS], studies=studies, fits=_fit_rows(runs),
        figures=_curve_figures(runs, out.parent),
        costs=[cost_view(r.manifest.get("cost"), titles) for r in runs],
        cost_studies=list(dict.fromkeys(titles[s] for s in studies)),
        boards=leaderboards([r.summary for r in runs]) if leaderboard else None)
    return write_text_atomic(out, html, what="the comparison")
