"""Optional design factors, each with its share of the variance (``subrational run --factor``).

The run's own design crosses personas, states, wordings and option orders
(:mod:`subrational.evaluation.robustness`). Three more factors can be crossed with them, each
at two levels (:data:`~.levels.LEVELS`):

* ``temperature``: 0.5 and 1.0 (fixed, a design choice: 1.0 is the default run's). Sampled
  answers are drawn at each. Scored answers (choice-probs) are not asked again: the level is
  applied to the options' distribution exactly, ``p_i^(1/T) / sum_j p_j^(1/T)``, which is what
  sampling at ``T`` gives restricted to the options when each option is a single token (for
  options of several tokens it is an approximation).
* ``reasoning``: ``direct`` (the one-word question) and ``cot`` (think it through, then a final
  ``Answer: X`` line). Under the sample method both are sampled, ``direct`` with a budget of
  :data:`~.levels.DIRECT_TOKENS` tokens (the parser takes a bare one-word answer). Under
  choice-probs, ``cot`` cannot be scored without generating the reasoning: it is sampled with
  the run's ``--samples`` and temperature, so that level also changes the method (the report
  says so).
* ``placement``: ``system`` (the persona's text opens the instructions, the run's own layout)
  and ``user`` (the instructions without it; the persona's text first in the user message).
  The text must appear verbatim in the instructions; where it does not (a game of one's own
  may weave it into its story) the factor is not varied for that study, with the reason.

The chosen factors are crossed with each other (their full factorial) over the run's personas
x states x the **first wording only** x every option order, which bounds the cost; ``subrational
plan`` counts these calls exactly (a ``<id> factors`` row), and a cell that asks what the run
asks (persona in the system message, the method's own question, the run's temperature) is
the run's own, paid once (:mod:`.design`). Each factor's share of the variance of logit
P(first action) is its omega squared with a 95 % wild-bootstrap interval (:mod:`.assess`),
stored under each study's ``factors`` in ``summary.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .assess import FACTORS_VERSION, HOW_TO_RUN, assess_factors, not_run
from .design import FILE, FactorRun, asks, elicit_factors, frame_of, store, varied
from .levels import DIRECT_TOKENS, FACTOR_NAMES, LEVELS, own_ask, with_temperature

__all__ = ["FACTOR_NAMES", "LEVELS", "DIRECT_TOKENS", "FACTORS_VERSION", "HOW_TO_RUN", "FILE",
           "FactorRun", "check_factors", "elicit_factors", "not_run", "run_factors",
           "run_summary", "with_temperature"]


def check_factors(experiments: Sequence[Any], config: Any) -> int:
    """Refuse, in one line, settings the factors cannot be run with (before any call).

    A factor named twice, and ``reasoning`` with ``--answers structured`` (a structured answer
    always carries its reasoning, so ``direct`` would not be direct). Returns the model requests
    the factors plan (0 without ``--factor``; an upper bound for a sequential study sampled).
    """
    from ..elicitation import plan_size

    chosen = list(config.factors)
    if not chosen:
        return 0
    twice = sorted({f for f in chosen if chosen.count(f) > 1})
    if twice:
        raise ConfigError(f"--factor {twice[0]} given twice; give each factor once")
    if "reasoning" in chosen and config.answers == "structured":
        raise ConfigError("--factor reasoning compares a one-word answer with a reasoned one, "
                          "but --answers structured always asks for the reasoning; use "
                          "--answers text (or leave --answers out)")
    total = 0
    for experiment in experiments:
        own = [n for n in config.personas if n in experiment.personas]
        personas = [experiment.persona(n) for n in (own or list(experiment.default_personas))]
        factors, _ = varied(experiment, personas, chosen)
        mine = own_ask(config, config.method)
        distinct = {ask for _, ask, _ in asks(factors, config, config.method)} - {mine}
        total += sum(plan_size(experiment, personas, method=ask.method, samples=config.samples,
                               paraphrases=1) for ask in distinct)
    return total


def run_factors(experiment: Any, personas: Sequence[Any], cached: Any, config: Any, *,
                method: str, rows: Sequence[Any], folder: Path,
                provenance: Mapping[str, Any]) -> dict[str, Any]:
    """Ask, store and assess the factor cells of one study: its ``factors`` block."""
    run = elicit_factors(experiment, personas, cached, config, method, own=rows)
    frame = frame_of(experiment, run, provenance)
    if len(frame):
        store(frame, folder)
    return assess_factors(run, frame, asked=list(config.factors), method=method, config=config,
                          n_boot=config.bootstrap, seed=config.seed)


def run_summary(enabled: bool, factors: Sequence[str]) -> dict[str, Any]:
    """The top-level ``factors`` of ``summary.json``: which factors were run, or how to."""
    if not enabled:
        return not_run()
    return {"run": True, "version": FACTORS_VERSION, "factors": list(factors),
            "levels": {f: [str(x) for x in LEVELS[f]] for f in factors}}
