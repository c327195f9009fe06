"""Structural calibration: fit a classic behavioural model to what the LLM answered, with CIs.

A :class:`StructuralModel` predicts P(action | state) from a few parameters (an inequity
aversion, a discount rate, a CPT curvature, a present bias), usually with a logit choice
precision as a nuisance parameter. It is fitted per persona by maximum likelihood on what was
observed:

* sampled answers (``--method sample``): a **binomial likelihood on the raw counts** of parsed
  draws, ``k log q + (n - k) log(1 - q)`` per row (the counts are read from the demonstrations,
  not the smoothed probabilities);
* choice probabilities: the **fractional-response quasi-likelihood** on the probabilities,
  ``p log q + (1 - p) log(1 - q)`` per row (Papke & Wooldridge 1996; it needs no number of
  trials, and its point estimate is consistent though the "likelihood" is not one);
* a policy without stored observations (the learned network): the same quasi-likelihood on its
  probabilities at the grid states.

Intervals come from the LLM's variability, not from resampling the grid (a fixed design):

* sampled answers: the draws are resampled within each persona x state cell (the cell's counts
  drawn again, binomially, from their own proportion), so the interval is the sampling error of
  the answers; 95 % percentile interval;
* choice probabilities: a cluster bootstrap over whole wording x option-order blocks (every
  state of a persona asked in one wording and order is one block), the replicate that says how
  much the estimate depends on how the question was put. With G blocks (8 by default) the
  percentile deviations from the estimate are widened by ``sqrt(G / (G - 1)) t(G-1) / z``, the
  small-cluster correction of cluster-robust inference (CR1 with t(G - 1) critical values);
  with a single block no interval can be given;
* the learned policy is a deterministic function of the demonstrations: refitting it to
  resampled grid rows measures nothing about the LLM, so its fit is the point estimate only and
  its interval is "not applicable (deterministic network)" (read the demonstrations' interval
  for the uncertainty of what was learned from).

The likelihood depends on the data only through per-state totals, so the model is evaluated
once per unique state; every replicate is refitted from the full-data estimate. The B refits run
in lockstep (:func:`~subrational.evaluation.batched_nm.minimize_many`, scipy's bounded
Nelder-Mead vectorised over replicates, giving each replicate scipy's own result), evaluating a
model's ``predict_many`` on the trial points of all replicates at once.

An estimate within 0.1 % of its parameter's bound is flagged ``at_bound`` (the optimum lies at
or beyond the bound; the report prints "at bound", not an interval). ``inside`` the human range
is decided on the interval (for the policy, on its exact point fit): the whole interval inside
-> True, disjoint -> False, overlapping an edge -> None (undetermined). It is None, with a
reason, when the misfit exceeds :data:`MISFIT_BOUND`: a parameter of a model that does not
describe the behaviour is not a measurement.

A fit that cannot be made (fewer than two rows: a policy of a game with one decision state) is
not dropped silently: :func:`fit_structural` returns it among ``left_out`` with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm
from scipy.stats import t as student_t

from ..experiments.core import Experiment, ObservedPolicy, Persona, Policy, state_key
from ..seeding import derived_rng
from .batched_nm import minimize_many
from .behaviour import LEARNED_SOURCES
from .records import POLICY

__all__ = ["StructuralModel", "Observations", "ParamEstimate", "StructuralFit", "LeftOutFit",
           "StructuralFits", "observations", "fit_model", "calibrate", "fit_structural",
           "MISFIT_BOUND", "BINOMIAL", "FRACTIONAL"]

_EPS = 1e-9
_BOUND_TOL = 1e-3

MISFIT_BOUND = 0.1
"""Largest misfit (mean |observed - fitted| P(action) over the states) at which a fit is
compared with the human range. A design choice: on the simulated model curves of the tests a
described curve misfits by under 0.03 and one the model cannot draw by over 0.2; at 0.1 the
fitted curve misses the answers by 10 points on average, too far to read its parameter as the
persona's."""

BINOMIAL = "binomial likelihood on the sampled counts"
FRACTIONAL = ("fractional-response quasi-likelihood on the choice probabilities "
              "(Papke & Wooldridge 1996)")
NOT_APPLICABLE = "not applicable (deterministic network)"


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
        depends: Parameters each derived quantity depends on (all, when not given): a derived
            quantity is flagged at a bound when one of these is.
        predict_many: Optional ``predict_many(thetas, states, persona) -> P(action)``, thetas
            (B, P) to (B, S): ``predict`` of each row of thetas at once, equal to it row by row
            (the bootstrap refits evaluate many points per call); ``None``: ``predict`` row by
            row (correct, not faster).
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
    depends: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    predict_many: Callable[[np.ndarray, Sequence[Any], Persona], np.ndarray] | None = None

    def predict_rows(self, thetas: np.ndarray, states: Sequence[Any],
                     persona: Persona) -> np.ndarray:
        """P(action) per row of ``thetas`` (B, P) and state: (B, S), by ``predict_many`` if any."""
        thetas = np.asarray(thetas, dtype=float)
        if self.predict_many is not None:
            return np.asarray(self.predict_many(thetas, states, persona), dtype=float)
        out = np.empty((len(thetas), len(states)))
        for i, theta in enumerate(thetas):
            out[i] = self.predict(theta.copy(), states, persona)
        return out

    def values(self, theta: np.ndarray) -> dict[str, float]:
        """Parameters and derived quantities by name."""
        out = {name: float(v) for name, v in zip(self.params, theta, strict=True)}
        if self.derived is not None:
            out.update({k: float(v) for k, v in self.derived(theta).items()})
        return out

    def at_bound(self, theta: np.ndarray, name: str) -> bool:
        """Whether ``name`` sits within 0.1 % of the width of a parameter's bounds.

        A derived quantity is at a bound when a parameter it depends on is.
        """
        names = (name,) if name in self.params else self.depends.get(name, self.params)
        for i, param in enumerate(self.params):
            low, high = self.bounds[i]
            tol = _BOUND_TOL * (high - low)
            if param in names and (theta[i] - low < tol or high - theta[i] < tol):
                return True
        return False


@dataclass(frozen=True)
class Observations:
    """Choice data of one persona: the state of each row and what was observed in it.

    Attributes:
        states: State of each row.
        p: P(modelled action) per row: the probability (choice-probs) or the share of parsed
            draws (sample).
        successes: Parsed draws of the modelled action per row (sample); ``None`` otherwise.
        trials: Parsed draws per row (sample); ``None`` otherwise.
        blocks: Wording x option-order block of each row (cluster bootstrap); ``None``: each
            row is its own block.
        deterministic: The rows are a deterministic policy's (no interval is given).
    """

    states: tuple[Any, ...]
    p: np.ndarray
    successes: np.ndarray | None = None
    trials: np.ndarray | None = None
    blocks: tuple[str, ...] | None = None
    deterministic: bool = False

    @property
    def likelihood(self) -> str:
        """Which likelihood the fit maximises."""
        return BINOMIAL if self.successes is not None else FRACTIONAL


def observations(experiment: Experiment, policy: Policy, persona: Persona, *,
                 action: int) -> Observations:
    """Rows of a policy for ``persona``: its demonstration rows when it has them, else the grid.

    The demonstrations (:class:`~subrational.demonstrations.table.TablePolicy`) give each row's
    wording x order block and, for sampled answers, the raw counts.
    """
    if hasattr(policy, "observed_rows"):
        rows = policy.observed_rows(persona)
        states = tuple(r.state for r in rows)
        blocks = tuple(r.block for r in rows)
        if rows and all(r.counts is not None for r in rows):
            k = np.array([r.counts[action] for r in rows], dtype=float)
            n = np.array([r.counts.sum() for r in rows], dtype=float)
            return Observations(states, k / np.maximum(n, 1), k, n, blocks)
        return Observations(states, np.array([r.probs[action] for r in rows], dtype=float),
                            blocks=blocks)
    if isinstance(policy, ObservedPolicy):
        pairs = policy.rows(persona)
        return Observations(tuple(s for s, _ in pairs), np.array([p[action] for _, p in pairs]))
    states = tuple(experiment.states())
    return Observations(states, np.array([policy.action_probs(s, persona)[action]
                                          for s in states], dtype=float), deterministic=True)


@dataclass(frozen=True)
class _Design:
    """Rows collapsed to unique states: the likelihood needs only per-state totals."""

    states: tuple[Any, ...]
    index: np.ndarray  # unique state of each row
    y: np.ndarray  # successes (or summed probabilities) per state
    n: np.ndarray  # trials (or rows) per state


def _design(obs: Observations) -> _Design:
    seen: dict[Any, int] = {}
    unique: list[Any] = []
    index = np.empty(len(obs.states), dtype=np.intp)
    for i, state in enumerate(obs.states):
        key: Any = state
        try:
            hash(state)
        except TypeError:
            key = state_key(state)
        if key not in seen:
            seen[key] = len(unique)
            unique.append(state)
        index[i] = seen[key]
    if obs.successes is not None and obs.trials is not None:
        y_row, n_row = obs.successes, obs.trials
    else:
        y_row, n_row = np.clip(obs.p, 0.0, 1.0), np.ones(len(obs.p))
    size = len(unique)
    return _Design(tuple(unique), index, np.bincount(index, y_row, size),
                   np.bincount(index, n_row, size))


def _nll(model: StructuralModel, states: Sequence[Any], persona: Persona, y: np.ndarray,
         n: np.ndarray) -> Callable[[np.ndarray], float]:
    def nll(theta: np.ndarray) -> float:
        q = np.clip(model.predict(theta, states, persona), _EPS, 1 - _EPS)
        return float(-np.sum(y * np.log(q) + (n - y) * np.log1p(-q)))

    return nll


def _nll_many(model: StructuralModel, states: Sequence[Any], persona: Persona, ys: np.ndarray,
              ns: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """:func:`_nll` of many replicates: row i of ``thetas`` under replicate ``problems[i]``."""
    def nll(thetas: np.ndarray, problems: np.ndarray) -> np.ndarray:
        q = np.clip(model.predict_rows(thetas, states, persona), _EPS, 1 - _EPS)
        y, n = ys[problems], ns[problems]
        return -np.sum(y * np.log(q) + (n - y) * np.log1p(-q), axis=1)

    return nll


def _minimise(nll: Callable[[np.ndarray], float], model: StructuralModel,
              starts: Sequence[Sequence[float]], *, xatol: float = 1e-6,
              fatol: float = 1e-9) -> np.ndarray:
    best = None
    for x0 in starts:
        result = minimize(nll, np.asarray(x0, dtype=float), method="Nelder-Mead",
                          bounds=model.bounds, options={"xatol": xatol, "fatol": fatol})
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None
    return np.asarray(best.x, dtype=float)


def fit_model(model: StructuralModel, obs: Observations, persona: Persona, *,
              starts: Sequence[Sequence[float]] | None = None) -> np.ndarray:
    """Maximum (quasi-)likelihood estimate (bounded Nelder-Mead from each start; best wins).

    Nelder-Mead needs no gradient and suits two or three parameters; it measured about 15x
    faster than L-BFGS-B's finite differences on these fits, which matters for the bootstrap.
    """
    d = _design(obs)
    return _minimise(_nll(model, d.states, persona, d.y, d.n), model,
                     starts or [model.x0, *model.extra_starts])


@dataclass(frozen=True)
class ParamEstimate:
    """One fitted quantity with its interval and the human range, if any.

    Attributes:
        name: Parameter or derived quantity.
        value: Estimate on all rows.
        ci_low: Lower end of the 95 % interval (``None`` when none applies: the policy).
        ci_high: Upper end.
        human_low: Lower end of the human range (``None`` when none is known).
        human_high: Upper end.
        inside: The interval lies inside the human range (True), outside it (False), or
            overlaps its edge, or no comparison is made (None: see ``inside_reason``).
        at_bound: The estimate sits at a bound of its parameter (the report says "at bound").
        inside_reason: Why ``inside`` is what it is, in words.
    """

    name: str
    value: float
    ci_low: float | None
    ci_high: float | None
    human_low: float | None = None
    human_high: float | None = None
    inside: bool | None = None
    at_bound: bool = False
    inside_reason: str = ""


@dataclass(frozen=True)
class StructuralFit:
    """A model fitted to one source and persona.

    ``misfit`` is the mean |observed - fitted| probability over the states (rows of a state
    averaged first): a parameter of a model that does not describe the behaviour (say, a flat
    answer to a discounting model) is reported with a large misfit, so it is not read as a
    measurement; above ``misfit_bound`` it is not compared with the human range.

    Attributes:
        likelihood: What was maximised (:data:`BINOMIAL` or :data:`FRACTIONAL`).
        interval: How the intervals were made, in words.
        n_boot: Bootstrap replicates behind the intervals (0: none).
        n_draws: Parsed draws behind the fit (sample); ``None`` for probabilities.
        n_blocks: Wording x option-order blocks (choice-probs); ``None`` otherwise.
    """

    model: str
    source: str
    persona: str
    estimates: list[ParamEstimate]
    n_rows: int
    n_boot: int
    human_source: str = ""
    misfit: float | None = None
    likelihood: str = FRACTIONAL
    interval: str = ""
    n_draws: int | None = None
    n_blocks: int | None = None
    misfit_bound: float = MISFIT_BOUND


def _replicates(obs: Observations, d: _Design, n_boot: int,
                rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray, float, str, int | None]:
    """Resampled per-state totals (B x S) and how the interval is made from them.

    Returns the successes and trials per replicate and state, the interval widening factor,
    the interval's description and the number of blocks.
    """
    if obs.deterministic or n_boot < 1:
        return np.empty((0, len(d.y))), np.empty((0, len(d.y))), 1.0, NOT_APPLICABLE, None
    if obs.successes is not None:
        share = np.divide(d.y, d.n, out=np.zeros_like(d.y), where=d.n > 0)
        y = rng.binomial(d.n.astype(np.int64), share, size=(n_boot, len(d.y))).astype(float)
        return (y, np.broadcast_to(d.n, y.shape), 1.0,
                f"95 % percentile bootstrap, {n_boot} replicates resampling the LLM's draws "
                f"within each persona x state cell", None)
    blocks = obs.blocks if obs.blocks is not None else tuple(str(i) for i in range(len(obs.p)))
    names = {b: i for i, b in enumerate(dict.fromkeys(blocks))}
    g = np.array([names[b] for b in blocks], dtype=np.intp)
    n_blocks = len(names)
    what = ("wording x option-order blocks" if obs.blocks is not None else "rows")
    if n_blocks < 2:
        return (np.empty((0, len(d.y))), np.empty((0, len(d.y))), 1.0,
                f"none: a single {what[:-1]} (nothing to resample)", n_blocks)
    per_y = np.zeros((n_blocks, len(d.y)))
    per_n = np.zeros((n_blocks, len(d.y)))
    np.add.at(per_y, (g, d.index), np.clip(obs.p, 0.0, 1.0))
    np.add.at(per_n, (g, d.index), 1.0)
    weights = rng.multinomial(n_blocks, np.full(n_blocks, 1.0 / n_blocks),
                              size=n_boot).astype(float)
    widen = float(math.sqrt(n_blocks / (n_blocks - 1)) * student_t.ppf(0.975, n_blocks - 1)
             / norm.ppf(0.975))
    return (weights @ per_y, weights @ per_n, widen,
            f"95 % cluster bootstrap, {n_boot} replicates resampling whole {what} ({n_blocks}), "
            f"percentile deviations widened x{widen:.2f} for {n_blocks} clusters "
            f"(sqrt(G/(G-1)) t(G-1)/z)", n_blocks)


def _inside(value: float, low: float | None, high: float | None,
            human: tuple[float, float] | None, misfit: float, *,
            deterministic: bool) -> tuple[bool | None, str]:
    if human is None:
        return None, "no human range"
    if not math.isfinite(value):
        return None, "estimate undefined"
    if misfit > MISFIT_BOUND:
        return None, (f"not compared: misfit {misfit:.3f} > {MISFIT_BOUND} (the model does "
                      f"not describe the answers)")
    if deterministic:
        lo = hi = value
        how = "exact point fit of the deterministic network"
    elif low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return None, "no interval"
    else:
        lo, hi = min(low, value), max(high, value)
        how = "95 % interval"
    if human[0] <= lo and hi <= human[1]:
        return True, f"{how} inside the human range"
    if hi < human[0] or lo > human[1]:
        return False, f"{how} outside the human range"
    return None, f"undetermined: {how} overlaps the edge of the human range"


_LOCKSTEP = True
"""Refit the bootstrap replicates in lockstep (:func:`_refit_lockstep`); ``False`` (tests and
``benchmarks/bench_fits.py`` only): one scipy minimisation per replicate, the same numbers."""
_REFIT_TOL = {"xatol": 1e-5, "fatol": 1e-7}


def _refit_lockstep(model: StructuralModel, states: Sequence[Any], persona: Persona,
                    theta: np.ndarray, ys: np.ndarray, ns: np.ndarray) -> list[np.ndarray]:
    """Each replicate's estimate, all refitted together from ``theta`` (scipy's results)."""
    if not len(ys):
        return []
    x, _ = minimize_many(_nll_many(model, states, persona, ys, ns),
                         np.tile(theta, (len(ys), 1)), model.bounds, **_REFIT_TOL)
    return list(x)


def _refit_each(model: StructuralModel, states: Sequence[Any], persona: Persona,
                theta: np.ndarray, ys: np.ndarray, ns: np.ndarray) -> list[np.ndarray]:
    """Each replicate's estimate, one scipy Nelder-Mead per replicate (the reference path)."""
    return [_minimise(_nll(model, states, persona, y, n), model, [list(theta)], **_REFIT_TOL)
            for y, n in zip(ys, ns, strict=True)]


def calibrate(model: StructuralModel, obs: Observations, persona: Persona, *, source: str,
              n_boot: int, rng: np.random.Generator, level: float = 0.95,
              starts: Sequence[Sequence[float]] | None = None) -> StructuralFit:
    """Fit ``model`` on all rows and give bootstrap intervals for what it reports."""
    d = _design(obs)
    theta = _minimise(_nll(model, d.states, persona, d.y, d.n), model,
                      starts or [model.x0, *model.extra_starts])
    point = model.values(theta)
    ys, ns, widen, interval, n_blocks = _replicates(obs, d, n_boot, rng)
    refit = _refit_lockstep if _LOCKSTEP else _refit_each
    draws = [model.values(x) for x in refit(model, d.states, persona, theta, ys, ns)]
    tail = (1 - level) / 2 * 100
    fitted = model.predict(theta, d.states, persona)
    observed = np.divide(d.y, d.n, out=np.full_like(d.y, np.nan), where=d.n > 0)
    misfit = float(np.nanmean(np.abs(observed - fitted)))
    bounds = dict(zip(model.params, model.bounds, strict=True))
    estimates = []
    for name in model.report or model.params:
        low: float | None
        high: float | None
        if draws:
            values = np.array([v[name] for v in draws], dtype=float)
            values = values[np.isfinite(values)]
            low, high = ((float(x) for x in np.percentile(values, [tail, 100 - tail]))
                         if len(values) else (math.nan, math.nan))
            v = point[name]
            if math.isfinite(v) and widen != 1.0:
                low = min(low, v + widen * (low - v))
                high = max(high, v + widen * (high - v))
            if name in bounds:
                low, high = max(low, bounds[name][0]), min(high, bounds[name][1])
            low, high = float(low), float(high)
        else:
            low = high = None if obs.deterministic else math.nan
        human = model.human_range.get(name)
        inside, reason = _inside(point[name], low, high, human, misfit,
                                 deterministic=obs.deterministic)
        estimates.append(ParamEstimate(name, point[name], low, high,
                                       human[0] if human else None,
                                       human[1] if human else None, inside,
                                       model.at_bound(theta, name), reason))
    n_draws = int(obs.trials.sum()) if obs.trials is not None else None
    return StructuralFit(model.name, source, persona.name, estimates, len(obs.p), len(draws),
                         model.human_source, misfit, obs.likelihood, interval, n_draws,
                         n_blocks)


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
    return f"{why}; a fit needs at least 2 rows"


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
