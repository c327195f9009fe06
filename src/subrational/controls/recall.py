"""The recall probe: ask the model what the classic study found, as a number.

Each built-in study has one or two questions whose answer is a percentage that a human study
measured (the number and its citation are those of the study's ``human.json`` and
``HUMAN_DATA.md``), and a way to read the same quantity off the model's own simulated
behaviour. The probe asks :data:`DRAWS` draws per question through the backend's generate
path, cached like any call; an answer that does not parse is never cached (it is asked again
by the next run; a replay with ``--offline`` counts it as invalid again) and is counted as
invalid.

**Strict parsing.** The last non-empty line must be ``Answer: N`` or ``Answer: N%`` with one
number from 0 to 100; anything else (no number, two numbers, a range, words) is invalid. A
number is never guessed from the text.

**Closer to what it recalls than to humans?** With ``sim`` the simulated value, ``rec`` the
mean recalled value and ``hum`` the human one: ``d = |sim - hum| - |sim - rec|``, with a
bootstrap interval (the recalled draws and the simulated cells resampled independently);
``d > 0`` with 95 % confidence says the simulation sits nearer the model's recollection than
the human data. When the recollection itself matches the humans (its interval holds ``hum``)
the comparison cannot tell recall from simulation, and says so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backends.base import FailedCall, GenerateRequest, Message, Prompt
from ..cache import CachedBackend
from ..errors import CacheMissError
from ..experiments.core import Experiment
from ..seeding import derive_seed
from .headline import Cells, Estimate, Means, cached_state_key, difference, estimate, headline
from .headline import Headline as _Stat

__all__ = ["Probe", "PROBES", "DRAWS", "PROBE_VERSION", "parse_percent", "probe_prompt",
           "ask_probes", "probe_block"]

PROBE_VERSION = 1
"""Version of the probe wordings (bump it when a question or the instruction changes)."""

DRAWS = 5
ROUNDING = 0.01
"""A recollection within one percentage point of the human number is the human number (the
model answers whole percents: 42 % for the 41.5 % of Heffner & FeldmanHall), so closeness to
it cannot tell recall from simulation; without this a recall that always said 42 % made the
simulation "closer to what it recalls" by 0.005 on a zero-width interval."""
"""Draws per question (design choice: enough for an interval of the recollection)."""

SYSTEM = ("You answer questions about published research in behavioural economics and "
          "psychology from memory.")
INSTRUCTION = ("Give your best estimate as a single percentage from 0 to 100. End with a final "
               "line of the form \"Answer: N%\".")

_ANSWER = re.compile(r"^\s*\**answer\**\s*:\s*\**\s*(\d{1,3}(?:\.\d+)?)\s*%?\s*\**\s*$",
                     re.IGNORECASE)


@dataclass(frozen=True)
class Probe:
    """One recall question.

    Attributes:
        id: Stable id (part of the cache key's seed).
        study: The study name it belongs to.
        question: The question as asked.
        human: The human value, as a share in [0, 1].
        source: Its citation and confidence tag (HUMAN_DATA).
        simulated: How the model's simulated behaviour gives the same quantity.
        simulated_label: That quantity in words.
    """

    id: str
    study: str
    question: str
    human: float
    source: str
    simulated: Callable[[Experiment, Means, Sequence[str]], float]
    simulated_label: str


def _at_offer(share: float) -> Callable[[Experiment, Means, Sequence[str]], float]:
    def fn(exp: Experiment, means: Means, personas: Sequence[str]) -> float:
        states = [s for s in exp.states() if abs(s.offer - share) < 1e-6]
        vals = [float(means[(p, k)][1]) for p in personas for s in states
                if (k := cached_state_key(s)) and (p, k) in means]
        return float(np.mean(vals)) if vals else math.nan
    return fn


def _full_wait_4_to_6(exp: Experiment, means: Means, personas: Sequence[str]) -> float:
    ages = {p.name for p in exp.personas.values() if 4 <= p.values.get("age", 0) <= 6}
    who = [p for p in personas if p.split("/")[0] in ages] or list(personas)
    return headline(exp).fn(exp, means, who)


def _keep_at_fair_odds(exp: Experiment, means: Means, personas: Sequence[str]) -> float:
    keys = [cached_state_key(s) for s in exp.states()
            if s.round == 0 and abs(s.win_prob - 0.5) < 1e-9]
    vals = [1.0 - float(means[(p, k)][1]) for p in personas for k in keys if (p, k) in means]
    return float(np.mean(vals)) if vals else math.nan


def _late_share(exp: Experiment, means: Means, personas: Sequence[str]) -> float:
    return headline(exp).fn(exp, means, personas)


PROBES: tuple[Probe, ...] = (
    Probe("ultimatum-reject-20", "ultimatum",
          "In ultimatum game experiments, what percentage of responders reject an offer of "
          "20 % of the pie?", 0.415,
          "Heffner & FeldmanHall 2022, 715 adults, offer 0.20 [V]",
          _at_offer(0.2), "P(reject | offer = 20 %)"),
    Probe("ultimatum-reject-10", "ultimatum",
          "In ultimatum game experiments, what percentage of responders reject an offer of "
          "10 % of the pie?", 0.601,
          "Heffner & FeldmanHall 2022, 715 adults, offer 0.10 [V]",
          _at_offer(0.1), "P(reject | offer = 10 %)"),
    Probe("marshmallow-full-wait", "marshmallow",
          "In Walter Mischel's marshmallow experiments at Stanford's Bing nursery school, what "
          "percentage of the preschool children waited long enough to get the second treat?",
          1 / 3, "accounts of Mischel's studies, about one third of 4-6-year-olds [S]",
          _full_wait_4_to_6, "P(full wait), ages 4-6"),
    Probe("double-sure-500", "double_or_nothing",
          "In Kahneman and Tversky's 1979 prospect theory paper, what percentage of people "
          "preferred a sure gain of 500 to a 50 % chance of winning 1,000?", 0.84,
          "Kahneman & Tversky 1979, problem 11 [S]",
          _keep_at_fair_odds, "P(keep) at round 0, fair odds"),
    Probe("procrastination-last-two-days", "procrastination",
          "In the Open University Learning Analytics Dataset, what percentage of student "
          "assignments were submitted in the last two days before the deadline?", 0.52,
          "OULAD (Kuzilek et al. 2017), 32,914 assignments, computed [V]",
          _late_share, "share of work on the last two days"),
)
"""Every recall question, by study (module docstring)."""


def parse_percent(text: Any) -> tuple[float | None, str]:
    """``(share in [0, 1], "")`` from a strict ``Answer: N%`` last line, else ``(None, why)``."""
    if not isinstance(text, str) or not text.strip():
        return None, "no text"
    last = [line for line in text.strip().splitlines() if line.strip()][-1]
    match = _ANSWER.match(last)
    if match is None:
        return None, "no final line 'Answer: N%' with one number"
    value = float(match.group(1))
    if value > 100:
        return None, f"{value:g} is not a percentage from 0 to 100"
    return value / 100, ""


def _reject(text: str) -> str | None:
    return parse_percent(text)[1] or None


def probe_prompt(probe: Probe) -> Prompt:
    """The messages of ``probe`` (its meta names the probe, for the scripted backend)."""
    return Prompt((Message("system", SYSTEM), Message("user", f"{probe.question} {INSTRUCTION}")),
                  {"probe": probe.id, "experiment": f"recall:{probe.study}"})


def ask_probes(probes: Sequence[Probe], cached: CachedBackend, *, seed: int,
               max_tokens: int, temperature: float = 1.0) -> dict[str, list[float | None]]:
    """``probe id -> parsed shares`` (None for an invalid or failed draw), :data:`DRAWS` each."""
    requests = [GenerateRequest(probe_prompt(p), temperature=temperature, max_tokens=max_tokens,
                                seed=derive_seed(seed, "recall", p.id, d, bits=31))
                for p in probes for d in range(DRAWS)]
    texts = _generate(cached, requests)
    out: dict[str, list[float | None]] = {}
    for i, probe in enumerate(probes):
        got = texts[i * DRAWS:(i + 1) * DRAWS]
        out[probe.id] = [None if (t is None or isinstance(t, FailedCall))
                         else parse_percent(t)[0] for t in got]
    return out


def _generate(cached: CachedBackend, requests: list[GenerateRequest]) -> list[Any]:
    """The texts; replaying (``--offline``), a draw not in the cache is an invalid one.

    An invalid answer is never cached, so a replay cannot have it: it stays invalid, as it
    was in the run that filled the cache (the summary is the same).
    """
    if not cached.offline:
        return cached.generate(requests, accept=_reject) if requests else []
    texts: list[Any] = []
    for request in requests:
        try:
            texts.extend(cached.generate([request], accept=_reject))
        except CacheMissError:
            texts.append(None)
    return texts


def _recalled(values: list[float | None], *, n_boot: int, seed: int) -> Estimate:
    good = np.array([v for v in values if v is not None], dtype=float)
    if good.size == 0:
        return Estimate(math.nan, np.full(n_boot, math.nan), 0)
    rng = np.random.default_rng(seed)
    reps = np.array([good[rng.integers(good.size, size=good.size)].mean()
                     for _ in range(n_boot)])
    return Estimate(float(good.mean()), reps, int(good.size))


def _guarded(fn: Callable[[Experiment, Means, Sequence[str]], float]
             ) -> Callable[[Experiment, Means, Sequence[str]], float]:
    """``fn``, NaN where the study's states lack what it reads (a redesigned study)."""
    def safe(exp: Experiment, means: Means, personas: Sequence[str]) -> float:
        try:
            return fn(exp, means, personas)
        except (AttributeError, KeyError, TypeError):
            return math.nan
    return safe


def probe_block(probe: Probe, values: list[float | None], cells: Cells, *, n_boot: int,
                seed: int, by_people: bool = False) -> dict[str, Any]:
    """One probe's row of the report: recall, human value, simulated value, which is closer.

    ``by_people``: the simulated value's interval resamples the people first (a population).
    """
    recall = _recalled(values, n_boot=n_boot, seed=seed)
    sim = estimate(cells, n_boot=n_boot, seed=seed, fn=_Stat(probe.simulated_label,
                                                             _guarded(probe.simulated)),
                   by_people=by_people)
    human = Estimate(probe.human, np.full(n_boot, probe.human), 0)
    d_human = Estimate(abs(sim.value - human.value), np.abs(sim.reps - human.reps), sim.n)
    d_recall = Estimate(abs(sim.value - recall.value), np.abs(sim.reps - recall.reps),
                        sim.n + recall.n)
    closer = difference(d_human, d_recall)
    lo, hi = recall.interval
    if not math.isfinite(recall.value):
        verdict = "no valid recollection"
    elif lo - ROUNDING <= probe.human <= hi + ROUNDING:
        verdict = "recalls the human value: closeness cannot tell recall from simulation"
    elif closer.excludes_zero():
        verdict = ("closer to what it recalls" if closer.value > 0 else "closer to humans")
    else:
        verdict = "undecided"
    return {"id": probe.id, "question": probe.question, "human": probe.human,
            "source": probe.source, "recall": recall.to_dict(),
            "invalid": sum(v is None for v in values), "draws": len(values),
            "simulated_label": probe.simulated_label, "simulated": sim.to_dict(),
            "closer_to_recall_than_humans": closer.to_dict(), "verdict": verdict}
