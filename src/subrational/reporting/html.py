"""``report.html``: one self-contained page (figures embedded as PNG data URIs, also on disk)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import jinja2

from ..evaluation.records import LEARNED_SOURCES, PER_PERSONA
from ..paths import write_text_atomic
from .figures import plot_analysis

__all__ = ["write_report"]

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("subrational", "reporting/templates"),
                          autoescape=True, trim_blocks=True, lstrip_blocks=True)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


_ENV.filters["fmt"] = _fmt


def _front_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per study: its paper findings (demonstrations, policy) and its distance."""
    rows = []
    for exp_id, exp in summary["experiments"].items():
        paper = [f for f in exp["findings"] if f["kind"] == "paper"
                 and f["source"] in LEARNED_SOURCES]
        claims = list(dict.fromkeys(f["claim"] for f in paper))
        findings = [{"claim": claim, **{f["source"]: f["reproduced"] for f in paper
                                        if f["claim"] == claim}}
                    for claim in claims] or [{"claim": "(no finding defined)"}]
        rows.append({"study": exp["title"], "id": exp_id, "findings": findings,
                     "distance": exp["metrics"].get("distance_to_humans", {})})
    return rows


def _scalars(metric: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Numbers of a metrics entry, one nested level flattened (``logistic.threshold``)."""
    out: dict[str, Any] = {}
    for key, value in metric.items():
        if isinstance(value, dict) and not prefix:
            out.update(_scalars(value, f"{key}."))
        elif value is None or isinstance(value, (int, float)):
            out[prefix + key] = value
    return out


def persona_table(metrics: dict[str, Any]) -> dict[str, Any]:
    """Rows ``source · persona`` x columns: the scalar statistics each study reports per persona."""
    per = metrics.get(PER_PERSONA, {})
    rows = {f"{source} · {persona}": _scalars(m) for source in LEARNED_SOURCES
            for persona, m in per.get(source, {}).items() if isinstance(m, dict)}
    columns = list(dict.fromkeys(c for r in rows.values() for c in r))
    return {"columns": columns, "rows": rows}


def _embed(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def write_report(out: Path, results: list[Any], summary: dict[str, Any],
                 manifest: dict[str, Any]) -> Path:
    """Render figures and the HTML report into the run directory; return the report path."""
    sections = []
    for result in results:
        exp = result.experiment
        figures = plot_analysis(result.analysis, out / "figures", exp.name)
        data = summary["experiments"][exp.id]
        sections.append({"id": exp.id, "title": exp.title, "data": data,
                         "personas": persona_table(data["metrics"]),
                         "figures": [{"panel": panel, "src": _embed(p),
                                      "file": f"figures/{p.name}"}
                                     for panel, p in figures.items()]})
    embedded = str(manifest.get("model", {}).get("model", "")) == "smollm2"
    reproduced_any = any(f.get("demonstrations") or f.get("policy")
                         for r in _front_rows(summary) for f in r["findings"])
    html = _ENV.get_template("report.html.j2").render(
        summary=summary, manifest=manifest, sections=sections, front=_front_rows(summary),
        embedded=embedded, reproduced_any=reproduced_any)
    return write_text_atomic(out / "report.html", html, what="the report")
