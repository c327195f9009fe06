"""Known-truth simulation of verdicts: scripted LLMs whose answers are known, judged many times.

A responder is a scripted LLM for one built-in study: ``P(action | persona, state)`` with a
known answer. Three kinds per study:

* ``human_identical``: the scripted human that the study's own tests use to prove "a
  human-identical responder is judged human-like", built from the shipped human reference
  (``studies/<study>/human.json``). Every finding should pass; its pass rate is the power of
  the verdict at the truth.
* ``persona_blind``: the human-identical answers of ONE fixed persona (the middle default
  persona) given for every persona. State effects are the human ones, persona effects are
  exactly zero: it is the null for the findings that a behaviour moves with the persona
  (``NULL_FOR[study][claim] == "persona"``). In the ultimatum the human curve is the same for
  every persona already, so this responder is the human-identical one.
* ``state_blind``: per persona a constant over the states, the human-identical answer averaged
  uniformly over the experiment's elicitation grid. It is the null for the findings that a
  behaviour moves with the state (``NULL_FOR[study][claim] == "state"``, e.g. work piles up as
  the deadline nears). The marshmallow test has no finding about the direction over minutes.

A finding passed by its null is a false positive. Findings that say a behaviour does *not*
rise (``"... does not rise with ..."``, a tolerance on the largest increase) are met by a flat
null by construction: they are not what the null tests and are not marked.

:func:`demonstrations` elicits from a responder through the real pipeline (``ScriptedBackend``,
``elicit``, ``to_frame``, ``TablePolicy``); :func:`assess` turns demonstrations into findings
(today's analysis; a replacement with the same shape is passed as ``analyse=``);
:func:`pass_rates` repeats both over seeds and counts. ``benchmarks/sim_inference.py`` prints
the tables. Imported by tests as ``from inference_sim import ...`` (``tests/`` is on the path,
see ``conftest.py``).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy.special import expit

from subrational.backends.scripted import ScriptedBackend
from subrational.cache import CachedBackend
from subrational.demonstrations import TablePolicy, to_frame
from subrational.elicitation import SampleSettings, elicit
from subrational.elicitation.smoothing import wilson
from subrational.evaluation import DEMONSTRATIONS, POLICY, Analysis, analyse_study, to_jsonable
from subrational.evaluation.behaviour import EvalSettings
from subrational.evaluation.scorecard import scorecard
from subrational.experiments import Experiment, Persona, Policy, make
from subrational.studies.marshmallow.game import EAT, WAIT
from subrational.studies.ultimatum import HUMAN as ULTIMATUM_HUMAN

STUDIES = ("ultimatum", "marshmallow", "double_or_nothing", "procrastination")

# -- the human-identical policies of the four studies -----------------------------------------


class HumanCurve:
    """The Heffner & FeldmanHall (2022) per-offer rejection curve, interpolated, for every persona
    (flat outside 0.05-0.50, as the data's first and last offer)."""

    def __init__(self):
        rc = ULTIMATUM_HUMAN["rejection_curve"]
        self.offers, self.rej = np.asarray(rc["offer"]), np.asarray(rc["p_reject"])

    def action_probs(self, state, persona):
        r = float(np.interp(state.offer, self.offers, self.rej))
        return np.array([1 - r, r])


FULL_WAIT_TARGET = {2: 0.05, 3: 0.2, 4: 0.45, 5: 0.45, 6: 0.55, 7: 0.6, 8: 0.65}
"""P(full wait) of the human-identical child: the centre of the human band [0.2, 0.7] at ages
4-5 (Lamm et al. 2018; Bing), rising with age (Carlson et al. 2018), low at 2."""


def eat_at_once(age: int) -> float:
    """P(eat at minute 0) of the human-identical child: 0.7 at age 2, 0.15 less a year, >= 0.1."""
    return max(0.7 - 0.15 * (age - 2), 0.1)


class HumanChild:
    """Bimodal, as children are (Watts et al. 2018): eats at once with P(e_age), then a constant
    hazard per minute chosen so that P(full wait) hits :data:`FULL_WAIT_TARGET`."""

    def __init__(self, horizon):
        self.horizon = horizon

    def action_probs(self, state, persona):
        age = int(persona.values["age"])
        at_once = eat_at_once(age)
        full = FULL_WAIT_TARGET[age]
        hazard = at_once if state.minute == 0 else \
            1 - (full / (1 - at_once)) ** (1 / (self.horizon - 1))
        p = np.zeros(2)
        p[EAT], p[WAIT] = hazard, 1 - hazard
        return p


class LogisticGambler:
    """P(gamble) = sigmoid(a + b (log10 w0 - 1) + c round + d (p - 0.5) + e [loss frame])."""

    def __init__(self, a: float, b: float = 0.0, c: float = 0.0, d: float = 0.0,
                 e: float = 0.0) -> None:
        self.a, self.b, self.c, self.d, self.e = a, b, c, d, e

    def action_probs(self, state, persona):
        loss = getattr(state, "frame", "gain") == "loss"
        logit = (self.a + self.b * (persona.values["log_stake"] - 1) + self.c * state.round
                 + self.d * (state.win_prob - 0.5) + self.e * loss)
        g = float(expit(logit))
        return np.array([1 - g, g])


HUMAN_GAMBLER = LogisticGambler(0.5, b=-0.5, c=-0.3, d=8.0, e=1.5)
"""The human-like contestant: P(gamble | fair odds, round 0) 0.62, 0.50, 0.38, 0.27 by stake,
mean 0.44 inside the human band [0.15, 0.5] (Kahneman & Tversky 1979; choices13k); 1.5 logits
more in the loss frame (0.88, 0.82, 0.73, 0.62: the reflection effect, KT 1979 problem 12)."""


class DeadlineStudent:
    """Works when the deadline is close, and more the higher the GPA (``sign`` flips that)."""

    def __init__(self, game, sign=1.0):
        self.game, self.sign = game, sign

    def action_probs(self, state, persona):
        slack = (self.game.deadline - state.day + 1) - (self.game.sessions - state.done)
        z = -0.5 + self.sign * 1.2 * (persona.values["gpa"] - 3.0) - 0.5 * slack
        work = float(expit(z + 3.0 * (slack <= 0)))
        return np.array([work, 1.0 - work])


_HUMAN: dict[str, Callable[[Experiment], Policy]] = {
    "ultimatum": lambda e: HumanCurve(),
    "marshmallow": lambda e: HumanChild(e.horizon),
    "double_or_nothing": lambda e: HUMAN_GAMBLER,
    "procrastination": lambda e: DeadlineStudent(e),
}


# -- the nulls --------------------------------------------------------------------------------


class PersonaBlind:
    """``inner``'s answers of the persona ``anchor``, whatever the persona asked."""

    def __init__(self, inner: Policy, anchor: Persona) -> None:
        self.inner, self.anchor = inner, anchor

    def action_probs(self, state: Any, persona: Persona) -> np.ndarray:
        return np.asarray(self.inner.action_probs(state, self.anchor), dtype=float)


class StateBlind:
    """Per persona, ``inner``'s answers averaged uniformly over ``states``, at every state."""

    def __init__(self, inner: Policy, states: Sequence[Any]) -> None:
        self.inner, self.states = inner, list(states)
        self._mean: dict[str, np.ndarray] = {}

    def action_probs(self, state: Any, persona: Persona) -> np.ndarray:
        if persona.name not in self._mean:
            self._mean[persona.name] = np.mean(
                [self.inner.action_probs(s, persona) for s in self.states], axis=0)
        return self._mean[persona.name]


def middle_persona(experiment: Experiment) -> Persona:
    """The middle default persona: ``typical``, ``age-5``, ``stake-1000``, ``gpa-3.0``."""
    names = list(experiment.default_personas)
    return experiment.persona(names[len(names) // 2])


NULL_FOR: dict[str, dict[str, str]] = {
    "ultimatum": {"typical persona: 50 % rejection point like humans": "state"},
    "marshmallow": {"waiting rises with age": "persona",
                    "full-wait probability does not fall from age 3 to 6": "persona",
                    "mean wait does not fall from age 3 to 6": "persona"},
    "double_or_nothing": {"gambles less as the stake grows": "persona",
                          "gambles more as the win probability rises": "state",
                          "more risk seeking in the loss frame (reflection)": "state"},
    "procrastination": {"lower GPA works later": "persona",
                        "lower-GPA students finish closer to the deadline": "persona",
                        "work piles up near the deadline": "state"},
}
"""Per study, the findings that assert a behaviour moves with the persona or with the state:
the persona-blind or state-blind responder is their null. (The marshmallow "does not fall"
bands ask for a rise: Spearman rho > 0 and a rise beyond 3 Monte Carlo SE. The double-or-
nothing win-probability finding exists only on a grid with p = 0.8.)"""


# -- responders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Responder:
    """A scripted LLM with a known truth for one study.

    Attributes:
        study: The study's short id (``"marshmallow"``).
        kind: ``"human-identical"``, ``"persona-blind"`` or ``"state-blind"``.
        truth: Builds the true policy (``action_probs(state, persona)``) for an experiment of
            the study (its grid, horizon or deadline).
    """

    study: str
    kind: str
    truth: Callable[[Experiment], Policy]

    def probs_fn(self, experiment: Experiment) -> Callable[[Persona, Any], np.ndarray]:
        """``(persona, state) -> P(action)`` in the experiment's action order, for a backend."""
        policy = self.truth(experiment)
        return lambda persona, state: np.asarray(policy.action_probs(state, persona), dtype=float)

    def backend(self, experiment: Experiment) -> ScriptedBackend:
        """A scripted backend answering with this responder's probabilities."""
        return ScriptedBackend(f"{self.study}:{self.kind}", probs_fn=self.probs_fn(experiment))


def _known(study: str) -> str:
    if study not in _HUMAN:
        raise ValueError(f"no scripted human for {study!r}; use one of {', '.join(STUDIES)}")
    return study


def human_identical(study: str) -> Responder:
    """The study tests' human-identical responder (see the module docstring)."""
    return Responder(_known(study), "human-identical", _HUMAN[study])


def persona_blind(study: str) -> Responder:
    """The human-identical answers of the middle persona, for every persona."""
    human = _HUMAN[_known(study)]
    return Responder(study, "persona-blind",
                     lambda e: PersonaBlind(human(e), middle_persona(e)))


def state_blind(study: str) -> Responder:
    """Per persona, the human-identical answer averaged over the grid, at every state."""
    human = _HUMAN[_known(study)]
    return Responder(study, "state-blind", lambda e: StateBlind(human(e), e.states()))


RESPONDERS = {"human-identical": human_identical, "persona-blind": persona_blind,
              "state-blind": state_blind}


# -- demonstrations, findings, pass rates -----------------------------------------------------


class Demonstrations(NamedTuple):
    """Elicited demonstrations of one responder: the experiment, its lookup policy, personas."""

    experiment: Experiment
    policy: TablePolicy
    personas: list[Persona]


SIMULATED_VERSION = {"marshmallow": 1, "procrastination": 1}
"""Versions the human-identical responders were built for: version 2 of these two (the untold
wait, the adult's reliability, the credit at the deadline, spaced deadlines) has no
human-identical responder yet, so the known-truth suite keeps running on version 1."""


def demonstrations(study_id: str, responder: Responder, *, method: str, samples: int = 10,
                   seed: int = 0, personas: Sequence[str] | None = None,
                   version: int | None = None,
                   options: Mapping[str, Any] | None = None) -> Demonstrations:
    """Elicit ``responder`` on the study's default experiment as ``subrational run`` does.

    ``method`` is ``choice-probs`` (exact probabilities: no draw noise) or ``sample``
    (``samples`` draws per cell; ``seed`` sets the draws). ``personas`` default to the
    experiment's default personas; ``options`` go to the experiment's constructor.
    """
    if responder.study != study_id:
        raise ValueError(f"responder of {responder.study!r} asked about {study_id!r}")
    version = SIMULATED_VERSION.get(study_id) if version is None else version
    experiment = make(study_id if version is None else f"{study_id}-v{version}",
                      **dict(options or {}))
    chosen = [experiment.persona(n) for n in
              (experiment.default_personas if personas is None else personas)]
    # No cache: a scripted backend is not cacheable, so CachedBackend would drop one anyway.
    rows = elicit(experiment, chosen, CachedBackend(responder.backend(experiment), None),
                  method=method, settings=SampleSettings(samples=samples), seed=seed)
    return Demonstrations(experiment, TablePolicy(experiment, to_frame(experiment, rows, {})),
                          chosen)


Analyse = Callable[..., Analysis]
"""``analyse(study_id, experiment, demonstrations_policy, personas, *, seed) -> Analysis``."""


def assess(study_id: str, experiment: Experiment, policy: Policy, personas: Sequence[Persona],
           *, seed: int) -> Analysis:
    """Today's findings from demonstrations: the study's analysis, default rollouts.

    The demonstrations policy is passed as the learned ``policy`` source too: today's verdict
    asks both sources for the paper's claims, and no policy is trained here.
    """
    return analyse_study(experiment, {DEMONSTRATIONS: policy, POLICY: policy}, list(personas),
                         settings=EvalSettings(seed=seed))


def assess_bootstrap(study_id: str, experiment: Experiment, policy: Policy,
                     personas: Sequence[Persona], *, seed: int, n_boot: int = 200) -> Analysis:
    """The findings as ``subrational run`` decides them: each on its bootstrap interval over the
    LLM's own answers (``assess_study``; the parse-failure bounds and the per-wording
    agreement, which decide nothing, are skipped). The verdict reads the demonstrations only."""
    from subrational.evaluation import assess_study

    return assess_study(experiment, {DEMONSTRATIONS: policy}, list(personas),
                        settings=EvalSettings(seed=seed), n_boot=n_boot, seed=seed,
                        extras=False)


def verdict(analysis: Analysis) -> str:
    """The scorecard verdict of an analysis (no robustness block: the wording is not varied)."""
    return scorecard({"findings": to_jsonable(analysis.findings), "from_paper": True})["verdict"]


def _seeds(seeds: int | Sequence[int]) -> list[int]:
    return list(range(seeds)) if isinstance(seeds, int) else list(seeds)


def pass_rates(study_id: str, responder: Responder, *, method: str, samples: int = 10,
               seeds: int | Sequence[int] = 40, analyse: Analyse = assess,
               options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Per finding of the demonstrations, the share of seeds that reproduce it; verdicts too.

    Each seed elicits anew (``seed`` sets the sample draws) and analyses with the same seed
    (the rollouts). A finding whose ``reproduced`` is ``None`` (undefined) or that is absent
    in a seed counts as not assessed, reported as its own share. Returns ``{"study", "experiment",
    "responder", "method", "samples", "seeds", "findings": {claim: {"origin", "null_for",
    "reproduced", "reproduced_interval", "not_assessed"}}, "verdicts": {verdict: share},
    "seconds_per_seed"}``; shares are over ``seeds`` (the count), intervals 95 % Wilson.
    """
    runs = _seeds(seeds)
    outcomes: dict[str, list[bool | None]] = {}
    origins: dict[str, str] = {}
    verdicts: Counter[str] = Counter()
    start, experiment_id = time.perf_counter(), ""
    for i, seed in enumerate(runs):
        demo = demonstrations(study_id, responder, method=method, samples=samples, seed=seed,
                              options=options)
        experiment_id = demo.experiment.id
        analysis = analyse(study_id, demo.experiment, demo.policy, demo.personas, seed=seed)
        for f in analysis.findings:
            if f.source == DEMONSTRATIONS:
                origins.setdefault(f.claim, f.origin)
                outcomes.setdefault(f.claim, [None] * i).append(f.reproduced)
        for got in outcomes.values():
            got.extend([None] * (i + 1 - len(got)))  # absent this seed: not assessed
        verdicts[verdict(analysis)] += 1
    n = len(runs)
    findings = {}
    for claim, got in outcomes.items():
        hits = sum(r is True for r in got)
        findings[claim] = {"origin": origins[claim], "null_for": NULL_FOR[study_id].get(claim),
                           "reproduced": hits / n, "reproduced_interval": wilson(hits, n),
                           "not_assessed": sum(r is None for r in got) / n}
    return {"study": study_id, "experiment": experiment_id, "responder": responder.kind,
            "method": method, "samples": samples if method == "sample" else None, "seeds": n,
            "findings": findings, "verdicts": {v: c / n for v, c in verdicts.most_common()},
            "seconds_per_seed": (time.perf_counter() - start) / n if n else math.nan}
