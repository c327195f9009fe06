"""``report.html``: one self-contained page (figures embedded as PNG data URIs, also on disk).

Beside the page the run directory gets what a paper needs: ``methods.md`` (the methods
paragraph, :mod:`.methods`, also shown on the page in a copy-friendly block),
``references.bib`` (every work the page cites, :mod:`.bibliography`, numbered as on the page)
and, per figure, its SVG and the CSV of its data (:mod:`.figures`). Fit tables show the rows
that say something; rows whose estimate is undefined or pinned at a bound of its search are
folded away with a count. Each study shows the prompt of one state verbatim, as
:func:`~subrational.elicitation.prompts.render` builds it for the backend.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from ..accounting import cost_view
from ..elicitation.prompts import render
from ..elicitation.smoothing import wilson
from ..evaluation.records import LEARNED_SOURCES, PER_PERSONA
from ..experiments import study
from ..experiments.core import Experiment, state_key
from ..paths import write_text_atomic
from .bibliography import Bibliography
from .figures import caption, plot_analysis
from .methods import methods_paragraph, study_personas
from .population_figures import plot_population
from .works import PAPER

__all__ = ["write_report", "threshold_rows", "parse_failure_rows", "fit_rows", "example_prompt"]

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
    """One entry per study: its findings (demonstrations, policy) and its distance to humans.

    A paper study shows the paper's findings; a study of one's own shows every finding it
    checks (its claims and its human bands), each with its kind.
    """
    rows = []
    for exp_id, exp in summary["experiments"].items():
        from_paper = exp.get("from_paper", True)
        checked = [f for f in exp["findings"] if f["source"] in LEARNED_SOURCES
                   and (f["kind"] == "paper" or not from_paper)]
        claims = list(dict.fromkeys((f["claim"], f["kind"]) for f in checked))
        findings = [{"claim": claim, "kind": _kind(kind, from_paper),
                     **{f["source"]: f for f in checked
                        if (f["claim"], f["kind"]) == (claim, kind)}}
                    for claim, kind in claims] or [{"claim": "(no finding defined)"}]
        rows.append({"study": exp["title"], "id": exp_id, "findings": findings,
                     "from_paper": from_paper,
                     "distance": exp["metrics"].get("distance_to_humans", {})})
    return rows


def _kind(kind: str, from_paper: bool) -> str:
    """A finding's kind as the report names it: a study of one's own has claims, not papers."""
    return "claim" if kind == "paper" and not from_paper else kind


def _holds(finding: Mapping[str, Any] | None) -> bool | None:
    return None if finding is None else finding.get("reproduced")


def _reproduced_any(rows: list[dict[str, Any]]) -> bool:
    return any(_holds(f.get(s)) for r in rows for f in r["findings"] for s in LEARNED_SOURCES)


def _headline(front: list[dict[str, Any]]) -> dict[str, Any]:
    """What the top of the report says: the paper's question and warnings only for its studies."""
    paper = [r for r in front if r["from_paper"]]
    own = [r for r in front if not r["from_paper"]]
    own_failed = [r["study"] for r in own
                  if any(_holds(f.get(s)) is not None for f in r["findings"]
                         for s in LEARNED_SOURCES) and not _reproduced_any([r])]
    return {"paper_run": bool(paper), "all_paper": bool(front) and not own,
            "paper_reproduced_any": _reproduced_any(paper), "own_titles": [r["study"] for r in own],
            "own_failed": own_failed}


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


def threshold_rows(bands: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The "Thresholds" table of a study: each number of its ``bands`` with its origin.

    A threshold tagged in ``bands["thresholds"]`` shows that tag (``human band`` with its
    citation, or ``design choice``); an untagged one is shown as ``untagged``, citing the
    block's source.
    """
    tags = bands.get("thresholds", {})
    rows = []
    for name, value in bands.items():
        if name in ("source", "thresholds") or isinstance(value, str):
            continue
        tag = tags.get(name, {})
        rows.append({"name": name, "value": value, "origin": tag.get("origin", "untagged"),
                     "source_ref": tag.get("source_ref", bands.get("source", ""))})
    return rows


def _state_label(key: str) -> str:
    """A state's canonical JSON as the report names it: ``offer = 0.05``."""
    try:
        fields = json.loads(key)
    except (TypeError, ValueError):
        return str(key)
    if not isinstance(fields, dict):
        return str(key)
    return ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                     for k, v in fields.items())


def _failure_row(name: str, entry: Mapping[str, Any], worst: Mapping[str, Any] | None,
                 *, with_persona: bool = False) -> dict[str, Any]:
    draws, failed = int(entry["draws"]), int(entry["failed"])
    low, high = wilson(failed, draws)
    where = "none failed"
    if worst:
        who = f"{worst['persona']} · " if with_persona else ""
        where = (f"{who}{_state_label(worst['state'])} ({worst['failed']}/{worst['draws']}, "
                 f"{_fmt(float(worst['rate']))})")
    return {"name": name, "draws": draws, "failed": failed,
            "rate": failed / draws if draws else None, "low": low, "high": high, "worst": where}


def parse_failure_rows(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The "Parse failures" table of a study: one row per persona, then all of them.

    Each row: draws asked, draws that did not parse, their share with a 95 % Wilson interval,
    and the worst state (highest share, with its counts). Empty unless the study was elicited
    with ``sample`` and asked at least one draw.
    """
    diag = data.get("diagnostics", {})
    per = diag.get("parse_failures_by_persona")
    if data.get("method") != "sample" or not diag.get("draws") or not per:
        return []
    rows = [_failure_row(name, e, e.get("worst_state")) for name, e in per.items()]
    total = {"draws": diag["draws"], "failed": diag["parse_failures"]}
    return [*rows, _failure_row("all personas", total, diag.get("parse_failures_worst_cell"),
                                with_persona=True)]


def fit_rows(fits: list[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """A study's fit estimates as table rows, ``shown`` and ``folded``.

    A row is folded when it says nothing: its estimate is undefined, or pinned at a bound of
    the search (``at_bound``), where the data only say "at least" or "at most".
    """
    rows: dict[str, list[dict[str, Any]]] = {"shown": [], "folded": []}
    for fit in fits:
        for est in fit["estimates"]:
            silent = est.get("value") is None or bool(est.get("at_bound"))
            rows["folded" if silent else "shown"].append({"f": fit, "e": est})
    return rows


def example_prompt(experiment: Experiment, method: str,
                   config: Mapping[str, Any]) -> dict[str, Any]:
    """The messages of the run's first persona at the first state, first wording and order."""
    persona = experiment.persona(study_personas(experiment, config)[0])
    state = experiment.states()[0]
    order = tuple(range(len(experiment.actions)))
    prompt = render(experiment, persona, state, order, method=method)
    return {"persona": persona.name, "state": _state_label(state_key(state)),
            "messages": [{"role": m.role, "content": m.content} for m in prompt.messages]}


def _embed(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def write_report(out: Path, results: list[Any], summary: dict[str, Any],
                 manifest: dict[str, Any]) -> Path:
    """Render figures, ``methods.md``, ``references.bib`` and the report; return its path."""
    bib = Bibliography()
    config = manifest.get("config") or {}
    if any(study(r.experiment.id).from_paper for r in results):
        bib.add(PAPER)
    sections = [_section(result, summary, config, out, bib) for result in results]
    methods = methods_paragraph([r.experiment for r in results], summary, manifest)
    write_text_atomic(out / "methods.md", "# Methods\n\n" + methods, what="the methods")
    embedded = str(manifest.get("model", {}).get("model", "")) == "smollm2"
    front = _front_rows(summary)
    titles = {sid: exp["title"] for sid, exp in summary["experiments"].items()}
    html = _ENV.get_template("report.html.j2").render(
        summary=summary, manifest=manifest, sections=sections, front=front, cite=bib.link,
        embedded=embedded, cost=cost_view(manifest.get("cost"), titles), methods=methods,
        bibliography=bib, **_headline(front))
    write_text_atomic(out / "references.bib", bib.bibtex(), what="the bibliography")
    return write_text_atomic(out / "report.html", html, what="the report")


def _section(result: Any, summary: dict[str, Any], config: Mapping[str, Any], out: Path,
             bib: Bibliography) -> dict[str, Any]:
    """What the page shows of one study; cites its sources in the order the page shows them."""
    exp = result.experiment
    figures = plot_analysis(result.analysis, out / "figures", exp.name)
    data = summary["experiments"][exp.id]
    composed = study(exp.id)
    references = composed.human.references()
    for text in [c.source for c in references] + [f.get("source_ref") for f in data["findings"]]:
        bib.cite(text)
    panels = {c.panel: [] for c in result.analysis.curves}
    for c in result.analysis.curves:
        panels[c.panel].append(c)
    population = plot_population(data.get("population"), out / "figures", exp.name)
    return {"id": exp.id, "title": exp.title, "data": data, "from_paper": composed.from_paper,
            "population_figure": population and {
                "src": _embed(population), "file": f"figures/{population.name}",
                "svg": f"figures/{population.with_suffix('.svg').name}",
                "csv": f"figures/{population.with_suffix('.csv').name}"},
            "references": references, "thresholds": threshold_rows(composed.human.bands),
            "personas": persona_table(data["metrics"]), "parse_failures": parse_failure_rows(data),
            "fit_rows": fit_rows(data.get("fits", [])),
            "prompt": example_prompt(exp, data["method"], config),
            "figures": [{"panel": panel, "src": _embed(p), "file": f"figures/{p.name}",
                         "svg": f"figures/{p.with_suffix('.svg').name}",
                         "csv": f"figures/{p.with_suffix('.csv').name}",
                         "caption": caption(panel, panels.get(panel, []))}
                        for panel, p in figures.items()]}
