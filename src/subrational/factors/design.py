"""Eliciting the factor cells, once per cell of the factors' full factorial.

A cell is the run's personas x states x the first wording x every option order.

Every cell goes through the run's own elicitation (:func:`~subrational.elicitation.elicit`,
same seed, draws and personas) against the run's cached backend, so the plan counts its calls
exactly as the run makes them (:func:`elicit_factors` serves both). Cells that ask the same
thing are asked once: scored cells that differ only in their temperature share one scoring
call, and the cell laid out as the run's own (persona in the system message, the method's own
question, the run's temperature) takes the run's own first-wording rows, paying nothing. The
rows are stored, with one column per factor, in ``<out>/<study>/factors/demonstrations.parquet``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..cache import CachedBackend
from ..elicitation import SampleSettings, elicit
from ..elicitation.prompts import persona_removed
from ..experiments import Experiment, Persona
from .levels import Ask, combinations, own_ask, resolve, with_temperature

__all__ = ["FactorCell", "FactorRun", "varied", "asks", "elicit_factors", "store", "FILE"]

FILE = "factors/demonstrations.parquet"
"""Where a study's factor cells are stored, relative to its folder."""


@dataclass
class FactorCell:
    """One cell of the factorial: its levels, how it was asked and its rows.

    Attributes:
        levels: ``{factor: level}`` for every factor varied in the study.
        ask: The elicitation that answered it (:class:`~.levels.Ask`).
        temperature: The temperature applied to scored answers, or ``None``.
        rows: Its :class:`~subrational.elicitation.DemoRow` s (first wording only).
    """

    levels: dict[str, Any]
    ask: Ask
    temperature: float | None
    rows: list[Any]


@dataclass
class FactorRun:
    """Everything the factors asked for one study.

    Attributes:
        factors: The factors varied, in the order given.
        not_varied: Factors asked for but not varied here, with the reason.
        cells: One per cell of the factorial.
    """

    factors: list[str]
    not_varied: dict[str, str]
    cells: list[FactorCell]


def varied(experiment: Experiment, personas: Sequence[Persona],
           factors: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The factors that can be varied for this study, and the others with the reason.

    ``placement`` needs every persona's text verbatim in the study's instructions, so that it
    can be taken out of them (a game of one's own may weave the persona into its story).
    """
    kept, skipped = [], {}
    for name in factors:
        if name == "placement":
            stuck = [p.name for p in personas
                     if persona_removed(experiment.instructions(p), p.text) is None]
            if stuck:
                skipped[name] = (f"the text of persona {stuck[0]!r} is not in the instructions "
                                 f"of {experiment.id} verbatim, so it cannot be moved to the "
                                 "user message")
                continue
        kept.append(name)
    return kept, skipped


def asks(factors: Sequence[str], config: Any, method: str) -> list[tuple[dict[str, Any], Ask,
                                                                          float | None]]:
    """Each cell of the factorial with its ask and the temperature applied to scores."""
    return [(cell, *resolve(cell, config, method)) for cell in combinations(list(factors))]


def _ask(experiment: Experiment, personas: Sequence[Persona], cached: CachedBackend,
         config: Any, ask: Ask) -> list[Any]:
    settings = SampleSettings(config.samples, ask.temperature or config.temperature,
                              ask.max_tokens or config.max_tokens)
    return elicit(experiment, personas, cached, method=ask.method, settings=settings,
                  seed=config.seed, paraphrases=1, layout=ask.layout)


def elicit_factors(experiment: Experiment, personas: Sequence[Persona], cached: CachedBackend,
                   config: Any, method: str, *, own: Sequence[Any] | None) -> FactorRun:
    """Ask every cell of the factors of ``config`` (module docstring).

    ``own`` are the run's own rows (their first wording answers the cell laid out as the run);
    ``None`` in a plan, where that cell is the study's own row of the plan and is not asked.
    """
    factors, skipped = varied(experiment, personas, config.factors)
    mine = own_ask(config, method)
    answered: dict[Ask, list[Any]] = {}
    if own is not None:
        answered[mine] = [r for r in own if r.paraphrase == 0]
    cells = []
    for levels, ask, temperature in asks(factors, config, method):
        if ask not in answered:
            answered[ask] = ([] if own is None and ask == mine
                             else _ask(experiment, personas, cached, config, ask))
        rows = answered[ask]
        if temperature is not None:
            rows = [replace(r, probs=with_temperature(r.probs, temperature)) for r in rows]
        cells.append(FactorCell(levels, ask, temperature, rows))
    return FactorRun(factors, skipped, cells)


def frame_of(experiment: Experiment, run: FactorRun, provenance: Mapping[str, Any]) -> Any:
    """The factor cells' rows as one demonstrations frame with a column per factor.

    ``asked_by`` says how each row was asked (``choice-probs`` or ``sample``, with the
    temperature applied to a scored one: ``choice-probs, T = 0.5``).
    """
    import pandas as pd

    from ..demonstrations import to_frame

    parts = []
    for cell in run.cells:
        if not cell.rows:
            continue
        part = to_frame(experiment, cell.rows, provenance)
        for name, level in cell.levels.items():
            part[name] = str(level)
        part["asked_by"] = cell.ask.method + ("" if cell.temperature is None
                                              else f", T = {cell.temperature:g}")
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def store(frame: Any, folder: Path) -> str:
    """Write the factor cells' frame under the study's ``folder``; the path written."""
    from ..demonstrations import write_demonstrations
    from ..paths import ensure_dir

    ensure_dir(folder / Path(FILE).parent, what="the factors' folder")
    write_demonstrations(folder / FILE, frame)
    return FILE
