"""Parse failures of sampled demonstrations: where they are, and a world that counts them.

Under the ``sample`` method an answer that does not parse is a counted failure, never a guessed
action. Two things read those counts:

* :func:`failure_rates`: draws, failures and their share per persona, per state and per
  persona x state (pooled over wordings and option orders), for the report.
* The *failures-as-``a``* world of
  :meth:`~subrational.demonstrations.TablePolicy.with_failures_as`, in which every failed draw
  is counted as action ``a``. Running a study's analysis once per action bounds what the
  failures could have done to each finding (:mod:`subrational.evaluation.sensitivity`).

An episode of a sequential game that was abandoned (every attempt at one step failed, see
:data:`~subrational.elicitation.elicit.ABANDONED`) has no answer at that step and none after
it. In the failures-as-``a`` world, :func:`complete_abandoned` lets the failed step take ``a``
and, since the rest of the episode was never asked, every later step take ``a`` too, until the
game ends (or after :data:`~subrational.elicitation.elicit.MAX_EPISODE_STEPS` steps, where the
elicitation stops an episode). This is the extreme completion: for a statistic that moves one
way with the number of ``a`` answers (a full-wait share, the flips taken, a late report) the
worlds of the two actions are its two ends, whereas dropping the episodes that ``a`` does not
end would leave one end at the point estimate. Chance moves after the failed step (a coin
flip) are drawn from a generator derived from the episode's identity, so a world is the same
every time it is built. A step that failed and then parsed on a later attempt keeps its parsed
answer (the episode went on from it); its failed attempts only count in its cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..elicitation.elicit import MAX_EPISODE_STEPS
from ..experiments.core import Experiment
from ..experiments.rollout import Trajectory
from ..seeding import derived_rng

__all__ = ["failure_rates", "complete_abandoned"]


def _entry(draws: float, failed: float) -> dict[str, Any]:
    return {"draws": int(draws), "failed": int(failed),
            "rate": float(failed / draws) if draws else None}


def _worst(cells: pd.DataFrame) -> pd.Series | None:
    """The cell with the highest failure rate (more draws first on a tie); None if none failed."""
    failed = cells[cells["n_failed"] > 0]
    if not len(failed):
        return None
    rate = failed["n_failed"] / failed["n_draws"]
    order = pd.DataFrame({"rate": rate, "draws": failed["n_draws"]}).sort_values(
        ["rate", "draws"], ascending=False, kind="stable")
    return failed.loc[order.index[0]]


def failure_rates(frame: pd.DataFrame) -> dict[str, Any]:
    """Parse failures per persona, per state and in the worst persona x state cell.

    Counts are pooled over wordings and option orders; ``draws`` are the answers asked
    (for a sequential game every attempt, retries included), ``failed`` those that did not
    parse and ``rate`` their share. Each persona also names its worst state (``None`` when none
    of its draws failed), as does ``parse_failures_worst_cell`` for the whole table. Empty
    when no draw was asked (``choice-probs``). States are keyed by their canonical JSON.
    """
    sampled = frame[frame["n_draws"] > 0]
    if not len(sampled):
        return {}
    cells = sampled.groupby(["persona", "state"], sort=False)[["n_draws", "n_failed"]].sum() \
        .reset_index()
    by_persona = {}
    for persona, g in cells.groupby("persona", sort=False):
        worst = _worst(g)
        by_persona[str(persona)] = {
            **_entry(g["n_draws"].sum(), g["n_failed"].sum()),
            "worst_state": None if worst is None else {
                "state": str(worst["state"]), **_entry(worst["n_draws"], worst["n_failed"])}}
    by_state = {str(s): _entry(g["n_draws"].sum(), g["n_failed"].sum())
                for s, g in cells.groupby("state", sort=False)}
    worst = _worst(cells)
    return {"parse_failures_by_persona": by_persona, "parse_failures_by_state": by_state,
            "parse_failures_worst_cell": None if worst is None else {
                "persona": str(worst["persona"]), "state": str(worst["state"]),
                **_entry(worst["n_draws"], worst["n_failed"])}}


def complete_abandoned(experiment: Experiment, steps: Sequence[tuple[int, Any, int, float]], *,
                       persona: str, action: int, episode: tuple[Any, ...]) -> Trajectory:
    """An abandoned episode finished with ``action`` from its failed step on (module docstring).

    Args:
        experiment: The game.
        steps: The episode's ``(step, state, action, reward)`` in order; the last is the
            failed one (its action ``ABANDONED``).
        persona: Persona name.
        action: The action every failed and every unasked step takes.
        episode: What identifies the episode (wording, option order, index): seeds its chance.
    """
    done = list(steps[:-1])
    state = steps[-1][1]
    who = experiment.persona(persona)
    rng = derived_rng(0, "failures as", action, persona, *episode)
    while True:
        result = experiment.sample_step(state, action, who, rng=rng)
        done.append((len(done), state, action, float(result.reward)))
        if result.terminated or result.next_state is None or len(done) >= MAX_EPISODE_STEPS:
            break
        state = result.next_state
    return Trajectory(persona, [s for _, s, _, _ in done], [a for _, _, a, _ in done],
                      [w for _, _, _, w in done])
