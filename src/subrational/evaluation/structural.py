"""Structural calibration: fit a classic behavioural model to choice probabilities, with CIs.

A :class:`StructuralModel` predicts P(action | state) from a few parameters (an inequity
aversion, a discount rate, a CPT curvature, a present bias), usually with a logit choice
precision as a nuisance parameter. It is fitted per persona by maximum quasi-likelihood: each
observation is a probability p of the modelled action, contributing
``p log q + (1 - p) log(1 - q)`` (the fractional-response likelihood of Papke & Wooldridge 1996,
which needs no number of trials). Observations are the demonstration rows (every wording and
option order of every state) for the LLM, and the grid states for a policy.

Confidence intervals are percentile intervals of a nonparametric bootstrap over those rows:
they say how much the estimate depends on which states, wordings and orders were asked about.
Each bootstrap fit starts from the full-data estimate, so it takes a few optimiser steps.
A fit that cannot be made (fewer than two rows: a policy of a game with one decision state) is
not dropped silently: :func:`fit_structural` returns it among ``left_out`` with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize

from ..experiments.core import Experiment, ObservedPolicy, Persona, Policy
from ..seeding import derived_rng
from .behaviour import LEARNED_SOURCES
from .records import POLICY

__all__ = ["StructuralModel", "Observations", "ParamEstimate", "StructuralFit", "LeftOutFit",
           "StructuralFits", "observations", "fit_model", "calibrate", "fit_structural"]

_EPS = 1e-9


@dataclass(frozen=True)
class StructuralModel:
    """A behavioural model of one action's probability.

    Attributes:
        name: Model name for the report (``"Fehr-Schmidt inequity aversion"``).
        params: Parameter names, in the order ``predict`` takes them.
        x0: Starting values of the optimiser.
        bounds: (low, high) per parameter.
        predict: ``predict(theta, states, persona) -> P(action)`` per state (array).
        action: Index of the action whose probability the model predicts.
        report: Parameters (or ``derived`` names) shown in the report; the rest are nuisance.
        derived: Optional ``theta -> {name: value}`` for quantities computed from the
            parameters (a 50 % threshold, a CE/EV ratio).
        human_range: Human (low, high) per reported name, with ``human_source`` saying where.
        human_source: Citation of the human ranges.
        extra_starts: More starting points for the full-data fit, for likelihoods with
            several local optima (bootstrap fits start from the full-data estimate).
    """

    name: str
    params: tuple[str, ...]
    x0: tuple[float, ...]
    bounds: tuple[tuple[float, float], ...]
    predict: Callable[[np.ndarray, Sequence[Any], Persona], np.ndarray]
    action: int = 0
    report: tuple[str, ...] = ()
    derived: Callable[[np.ndarray], Mapping[str, float]] | None = None
    human_range: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    human_source: str = ""
    extra_starts: tuple[tuple[float, ...], ...] = ()

    def values(self, theta: np.ndarray) -> dict[str, float]:
        """Parameters and derived quantities by name."""
        out = {name: float(v) for name, v in zip(self.params, theta, strict=True)}
        if self.derived is not None:
            out.update({k: float(v) for k, v in self.derived(theta).items()})
        return out


@dataclass(frozen=True)
class Observations:
    """Choice data of one persona: the state of each row and P(modelled action) in it."""

    states: tuple[Any, ...]
    p: np.ndarray


def observations(experiment: Experiment, policy: Policy, persona: Persona, *,
                 action: int) -> Observations:
    """Rows of a policy for ``persona``: its demonstration rows when it has them, else the grid."""
    if isinstance(policy, ObservedPolicy):
        pairs = policy.rows(persona)
        return Observations(tuple(s for s, _ in pairs), np.array([p[action] for _, p in pairs]))
    states = tuple(experiment.states())
    return Observations(states, np.array([policy.action_probs(s, persona)[action]
                                          for s in states], dtype=float))


def _nll(model: StructuralModel, obs: Observations, persona: Persona) -> Callable:
    p = np.clip(obs.p, 0.0, 1.0)

    def nll(theta: np.ndarray) -> float:
        q = np.clip(model.predict(theta, obs.states, persona), _EPS, 1 - _EPS)
        return float(-np.sum(p * np.log(q) + (1 - p) * np.log(1 - q)))

    return nll


def fit_model(model: StructuralModel, obs: Observations, persona: Persona, *,
              starts: Sequence[Sequence[float]] | None = None) -> np.ndarray:
    """Maximum quasi-likelihood estimate (bounded Nelder-Mead from each start; best one wins).

    Nelder-Mead needs no gradient and suits two or three parameters; it measured about 15x
    faster than L-BFGS-B's finite differences on these fits, which matters for the bootstrap.
    """
    nll = _nll(model, obs, persona)
    best = None
    for x0 in starts or [model.x0, *model.extra_starts]:
        result = minimize(nll, np.asarray(x0, dtype=float), method="Nelder-Mead",
                          bounds=model.bounds, options={"xatol": 1e-6, "fatol": 1e-9})
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None
    return np.asarray(best.x, dtype=float)


@dataclass(frozen=True)
class ParamEstimate:
    """One fitted quantity with its bootstrap interval and the human range, if any.

    Attributes:
        name: Parameter or derived quantity.
        value: Estimate on all rows.
        ci_low: Lower end of the percentile interval.
        ci_high: Upper end.
        human_low: Lower end of the human range (``None`` when none is known).
        human_high: Upper end.
        inside: Whether the estimate lies inside the human range (``None`` without one).
    """

    name: str
    value: float
    ci_low: float
    ci_high: float
    human_low: float | None = None
    human_high: float | None = None
    inside: bool | None = None


@dataclass(frozen=True)
class StructuralFit:
    """A model fitted to one source and persona.

    ``misfit`` is the mean |observed - fitted| probability over the rows: a parameter of a model
    that does not describe the behaviour (say, a flat answer to a discounting model) is reported
    with a large misfit, so it is not read as a measurement.
    """

    model: str
    source: str
    persona: str
    estimates: list[ParamEstimate]
    n_rows: int
    n_boot: int
    human_source: str = ""
    misfit: float | None = None


def _bootstrap(model: StructuralModel, obs: Observations, persona: Persona, theta: np.ndarray,
               *, n_boot: int, rng: np.random.Generator) -> list[dict[str, float]]:
    n = len(obs.p)
    draws = []
    for _ in range(n_boot):
        idx = rng.integers(n, size=n)
        sample = Observations(tuple(obs.states[i] for i in idx), obs.p[idx])
        draws.append(model.values(fit_model(model, sample, persona, starts=[list(theta)])))
    return draws


def calibrate(model: StructuralModel, obs: Observations, persona: Persona, *, source: str,
              n_boot: int, rng: np.random.Generator, level: float = 0.95,
              starts: Sequence[Sequence[float]] | None = None) -> StructuralFit:
    """Fit ``model`` on all rows and give percentile bootstrap intervals for what it reports."""
    theta = fit_model(model, obs, persona, starts=starts)
    point = model.values(theta)
    draws = _bootstrap(model, obs, persona, theta, n_boot=n_boot, rng=rng)
    tail = (1 - level) / 2 * 100
    estimates = []
    for name in model.report or model.params:
        values = np.array([d[name] for d in draws], dtype=float)
        values = values[np.isfinite(values)]
        low, high = (np.percentile(values, [tail, 100 - tail]) if len(values)
                     else (np.nan, np.nan))
        human = model.human_range.get(name)
        defined = human is not None and np.isfinite(point[name])
        inside = bool(human[0] <= point[name] <= human[1]) if defined and human else None
        estimates.append(ParamEstimate(name, point[name], float(low), float(high),
                                       human[0] if human else None,
                                       human[1] if human else None, inside))
    fitted = model.predict(theta, obs.states, persona)
    misfit = float(np.mean(np.abs(np.clip(obs.p, 0, 1) - fitted)))
    return StructuralFit(model.name, source, persona.name, estimates, len(obs.p), n_boot,
                         model.human_source, misfit)


@dataclass(frozen=True)
class LeftOutFit:
    """A model that was not fitted to one source and persona, and why (the report says it).

    Attributes:
        model: Model name.
        source: ``demonstrations`` or ``policy``.
        persona: Persona name.
        n_rows: Rows there were to fit.
        reason: Why no fit was made, in words.
    """

    model: str
    source: str
    persona: str
    n_rows: int
    reason: str


@dataclass(frozen=True)
class StructuralFits(Sequence[StructuralFit]):
    """The fits made (the sequence itself) and the ones left out, each with its reason.

    Attributes:
        fits: Every fit made, model by model, source by source, persona by persona.
        left_out: Every (model, source, persona) that could not be fitted.
    """

    fits: tuple[StructuralFit, ...] = ()
    left_out: tuple[LeftOutFit, ...] = ()

    def __getitem__(self, index: Any) -> Any:
        return self.fits[index]

    def __iter__(self) -> Iterator[StructuralFit]:
        return iter(self.fits)

    def __len__(self) -> int:
        return len(self.fits)


def _left_out_reason(n_rows: int, source: str) -> str:
    rows = f"{n_rows} row{'' if n_rows == 1 else 's'}"
    if source == POLICY:
        why = (f"{rows}: the learned policy gives one answer per decision state and the game "
               f"has {n_rows}")
    else:
        why = f"{rows} answered for this persona (unparsed answers leave rows out)"
    return f"{why}; a fit with a bootstrap interval needs at least 2 rows"


def fit_structural(experiment: Experiment, models: Sequence[StructuralModel],
                   policies: Mapping[str, Policy], personas: Sequence[Persona], *, n_boot: int,
                   seed: int) -> StructuralFits:
    """Every structural model in ``models`` on each learned source and persona of ``experiment``.

    Each fit has its own generator derived from the seed, the model, the source and the persona,
    so intervals do not depend on what else was fitted. A source and persona with fewer than
    two rows is not fitted; it is listed in ``left_out`` with the reason.
    """
    fits, left_out = [], []
    for model in models:
        for source in [s for s in LEARNED_SOURCES if s in policies]:
            for persona in personas:
                obs = observations(experiment, policies[source], persona, action=model.action)
                if len(obs.p) < 2:
                    left_out.append(LeftOutFit(model.name, source, persona.name, len(obs.p),
                                               _left_out_reason(len(obs.p), source)))
                    continue
                fits.append(calibrate(model, obs, persona, source=source, n_boot=n_boot,
                                      rng=derived_rng(seed, model.name, source, persona.name)))
    return StructuralFits(tuple(fits), tuple(left_out))
