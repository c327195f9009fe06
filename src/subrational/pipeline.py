"""The whole run: elicit -> demonstrations -> targets -> learn -> evaluate -> report.

Each stage writes its output into the run directory before the next starts; model calls are
cached as they finish, so an interrupted run started again re-uses every finished call.
``summary.json`` holds only what the config and the cached answers determine (so it is identical
on a replay); timings, call counts and versions go to ``manifest.json``.

The cache and the run directory are checked before any model call, every output is written
atomically, and the directory is marked finished last (``complete.json``): see
:mod:`subrational.rundir` for the markers and the rule for running again into the same ``out``.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .accounting import SpendLimit, check_max_cost, cost_manifest, price_for
from .backends.base import Backend
from .backends.prices import PriceMatch
from .backends.registry import create_backend
from .cache import Cache, CachedBackend, CallStats
from .config import MAX_PLAN_CALLS, RunConfig
from .controls import check_controls, not_run, run_controls, run_summary
from .demonstrations import (
    TablePolicy,
    diagnostics,
    read_demonstrations,
    targets,
    to_frame,
    write_demonstrations,
)
from .elicitation import PROMPT_VERSION, SampleSettings, elicit, plan_size
from .elicitation.noise import numerical_noise
from .elicitation.smoothing import describe
from .errors import ConfigError, LogprobsUnavailableError, SpendLimitReached, UnknownNameError
from .evaluation.behaviour import EvalSettings
from .evaluation.generic import assess_study
from .evaluation.people import assess_population
from .evaluation.records import DEMONSTRATIONS, POLICY, Analysis, to_jsonable
from .evaluation.robustness import robustness
from .evaluation.scorecard import VERDICT_RULE, scorecard
from .evaluation.structural import LeftOutFit, StructuralFit, fit_structural
from .evaluation.uncertainty import DECISION_RULE
from .experiments import (
    Experiment,
    Persona,
    Policy,
    import_plugins,
    latest_ids,
    make,
    split_id,
    study,
)
from .experiments.checks import check_experiment
from .experiments.population import Population, load_population
from .experiments.registry import option_names
from .factors import check_factors, run_factors
from .factors import not_run as factors_not_run
from .factors import run_summary as factors_summary
from .learning import Target, TrainConfig, TrainResult, mean_tv, train_policy
from .learning.holdout import noise_floor, persona_baselines
from .learning.people_holdout import held_out_people
from .paths import ensure_dir, write_text_atomic
from .rundir import config_digest, finish_run, start_run

__all__ = ["ExperimentResult", "RunResult", "run", "build_backend", "select_personas",
           "check_personas", "check_plan"]

Progress = Callable[[int, int, str], None]
"""``progress(done, total, label)``: called as requests finish."""


@dataclass
class ExperimentResult:
    """One experiment's outputs in a run."""

    experiment: Experiment
    analysis: Analysis
    diagnostics: dict[str, Any]
    training: dict[str, Any]
    method: str
    notes: list[str] = field(default_factory=list)
    robustness: dict[str, Any] = field(default_factory=dict)
    fits: list[StructuralFit] = field(default_factory=list)
    fits_left_out: list[LeftOutFit] = field(default_factory=list)
    failed_calls: list[dict[str, Any]] = field(default_factory=list)
    controls: dict[str, Any] = field(default_factory=dict)
    population: dict[str, Any] | None = None
    factors: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    """A finished run: where it is and what it found."""

    out: Path
    results: list[ExperimentResult]
    summary: dict[str, Any]
    manifest: dict[str, Any]


def build_backend(config: RunConfig) -> Backend:
    """The backend for ``config.model``, checked cheaply (model file, key) but not loaded.

    Settings the user chose (``--base-url``, a ``--dtype`` other than auto, a ``--timeout``,
    ``--answers``, rate limit or reasoning setting other than the default) must be ones the
    backend takes;
    run-wide ones (concurrency, offline, the capability table) go to each backend that uses
    them.
    """
    chosen: dict[str, Any] = {}
    if config.base_url:
        chosen["base_url"] = config.base_url
    if config.dtype != "auto":
        chosen["dtype"] = config.dtype
    for key in ("timeout", "answers", "reasoning_effort", "reasoning_budget",
                "draws_per_request", "rpm", "tpm"):
        if getattr(config, key) != RunConfig.model_fields[key].default:
            chosen[key] = getattr(config, key)
    shared = {"max_concurrency": config.max_concurrency, "batch_size": config.max_concurrency,
              "offline": config.offline, "timeout": config.timeout,
              "model_capabilities": config.model_capabilities}
    backend = create_backend(config.model, shared=shared, **chosen)
    backend.fingerprint()  # fail fast on a missing model file before any work
    return backend


def _elicit(experiment: Experiment, config: RunConfig, cached: CachedBackend, personas: list,
            notes: list[str]):
    settings = SampleSettings(config.samples, config.temperature, config.max_tokens)
    try:
        return elicit(experiment, personas, cached, method=config.method, settings=settings,
                      seed=config.seed, paraphrases=config.paraphrases), config.method
    except LogprobsUnavailableError as exc:
        notes.append(f"The server returns no log-probabilities ({exc.evidence or exc}): fell "
                     f"back to the sample method with {config.samples} draws per cell.")
        return elicit(experiment, personas, cached, method="sample", settings=settings,
                      seed=config.seed, paraphrases=config.paraphrases), "sample"


def select_personas(experiment: Experiment, names: list[str]) -> list[Persona]:
    """The personas of ``names`` that ``experiment`` has, or its defaults when it has none.

    One ``--persona`` list serves a run of several studies: each study takes the names that are
    its own (``--persona age-2 --persona fair`` narrows both the marshmallow test and the
    ultimatum game); :func:`check_personas` rejects a name that no study knows.
    """
    own = [n for n in names if n in experiment.personas]
    return [experiment.persona(n) for n in (own or experiment.default_personas)]


def check_personas(experiments: list[Experiment], names: list[str]) -> None:
    """Fail with a did-you-mean when a persona name belongs to none of ``experiments``."""
    known = {p for e in experiments for p in e.personas}
    for name in names:
        if name not in known:
            raise UnknownNameError("persona", name, sorted(known))


def check_plan(experiments: list[Experiment], config: RunConfig) -> int:
    """The number of model requests the run plans, refused above ``MAX_PLAN_CALLS``.

    Also refuses ``--paraphrases`` above the wordings a study has (it would silently use
    fewer). Both are checked before any call: a plan of 10**9 requests would first be built.
    """
    if config.paraphrases is not None:
        have = {e.id: len(e.paraphrases(next(iter(e.personas.values())))) for e in experiments}
        if config.paraphrases > min(have.values()):
            listed = ", ".join(f"{k} has {v}" for k, v in have.items())
            raise ConfigError(f"--paraphrases {config.paraphrases}: there are not that many "
                              f"wordings ({listed}); use at most {min(have.values())}, or leave "
                              "it out for all of them")
    total = sum(plan_size(e, select_personas(e, config.personas), method=config.method,
                          samples=config.samples, paraphrases=config.paraphrases)
                for e in experiments)
    if total > MAX_PLAN_CALLS:
        raise ConfigError(f"this run plans {total:,} model calls, more than the {MAX_PLAN_CALLS:,} "
                          "one run may make; use fewer --samples, --paraphrases, personas, "
                          "experiments or grid states (study options)")
    return total


POPULATION_POLICY_SEES = "the policy sees traits, not people"
POPULATION_TRAINING = f"{POPULATION_POLICY_SEES}: no retry round of seeds for the plateau guard"
"""How a population's policy is trained (``training.population_rule`` in ``summary.json``).

What the traits do not predict about a person (two people with the same traits who answer
differently) cannot be copied by a policy that sees only traits, so the plateau guard (max TV
<= 0.1 for every persona) fails whatever the seed, and its retry round doubles the time for
nothing (measured in ``docs/performance.md``). The held-out refits keep three seeds: one seed
stopped early and fitted the people it saw worse (mean TV 0.084 against 0.048), which would
have charged the network's under-fit to generalisation."""


def _train(experiment: Experiment, targets_: list[Target], config: RunConfig,
           notes: list[str], what: str) -> TrainResult:
    people = experiment.of_people
    settings = TrainConfig(loss=config.loss, seed=config.seed, retries=0 if people else 1)
    trained = train_policy(experiment, targets_, config=settings)
    if people and trained.warnings:  # one line, not one per person
        worst = max(f.max_tv for f in trained.per_persona.values())
        notes.append(f"{what}: {len(trained.warnings)} of {len(trained.per_persona)} personas are "
                     f"imitated with a max TV above {settings.max_tv} (largest {worst:.3f}); "
                     f"{POPULATION_POLICY_SEES}, so what the traits do not predict "
                     "about a person cannot be copied")
    else:
        notes.extend(f"{what}: {w}" for w in trained.warnings)  # never silent
    return trained


def _generalisation(experiment: Experiment, all_targets: list[Target], config: RunConfig,
                    frame: Any, notes: list[str]) -> dict[str, Any] | None:
    """Refit without the held-out personas; distance to the LLM on seen and unseen personas.

    Next to the network's distance on each held-out persona: copying the nearest trained
    persona's targets, interpolating its two neighbours per state, and the LLM's own spread
    over wordings (:mod:`subrational.learning.holdout`).
    """
    if experiment.of_people:  # a population: hold out people
        return held_out_people(experiment, all_targets, frame=frame, seed=config.seed,
                               train=lambda seen, what: _train(experiment, seen, config, notes,
                                                               what))
    held = set(experiment.holdout_personas)
    seen = [t for t in all_targets if t.persona.name not in held]
    unseen = [t for t in all_targets if t.persona.name in held]
    if not held or not unseen or len({t.persona.name for t in seen}) < 2:
        return None
    refit = _train(experiment, seen, config, notes, "generalisation refit")
    baselines = persona_baselines(experiment, seen, unseen)
    per_persona = {name: {"network_tv": mean_tv(refit.policy, [t for t in unseen
                                                                if t.persona.name == name]),
                          **baselines[name], "noise_floor": noise_floor(frame, name)}
                   for name in sorted(baselines)}
    return {"held_out": sorted(baselines), "train_tv": mean_tv(refit.policy, seen),
            "held_out_tv": mean_tv(refit.policy, unseen), "train_max_tv": refit.max_tv,
            "per_persona": per_persona}


def _learn(experiment: Experiment, frame: Any, config: RunConfig, folder: Path,
           notes: list[str]) -> tuple[Policy, dict[str, Any]]:
    """Train and save the policy on every persona; refit without the held-out ones."""
    all_targets = targets(experiment, frame, smoothing=config.smoothing)
    trained = _train(experiment, all_targets, config, notes, "policy")
    trained.policy.save(folder / "policy.pt")
    return trained.policy, {
        "loss": config.loss, "epochs": trained.epochs, "final_loss": trained.final_loss,
        **trained.summary(), "policy_file": f"{experiment.name}/policy.pt",
        "target_smoothing": (describe(config.smoothing, ordinal=experiment.ordinal_actions)
                             if (frame["method"] == "sample").any()
                             else "none: choice-probs distributions averaged over orders"),
        **({"population_rule": POPULATION_TRAINING} if experiment.of_people else {}),
        "generalisation": _generalisation(experiment, all_targets, config, frame, notes)}


def _robustness_note(robust: dict[str, Any]) -> list[str]:
    flagged = robust["form_beats_state"]
    if not flagged:
        return []
    groups = robust["groups"]
    form, content = groups["form"], groups["content"]
    return [f"How the question is put ({' and '.join(flagged)}, with their interactions with the "
            f"state: {form['share']:.0%} of the variance of the answers, 95 % interval "
            f"{form['interval'][0]:.0%}-{form['interval'][1]:.0%}) moves the answers more than "
            f"the situation and the persona do ({content['share']:.0%}): the model answers the "
            "form of the question, not its content."]


def _numerical_noise(experiment: Experiment, config: RunConfig, cached: CachedBackend,
                     personas: list[Persona], method: str) -> dict[str, Any]:
    """How far rounding alone moves P(first option) on this study's prompts.

    Cached like a call, so a replay reproduces it without loading the model
    (:mod:`.elicitation.noise`).
    """
    return numerical_noise(experiment, personas, cached, method=method,
                           paraphrases=config.paraphrases).to_dict()


def run_experiment(experiment: Experiment, config: RunConfig, cached: CachedBackend,
                   out: Path) -> ExperimentResult:
    """Elicit, store, learn and evaluate one experiment into ``out/<name>/``."""
    folder = ensure_dir(out / experiment.name, what="the run directory")
    personas = select_personas(experiment, config.personas)
    notes: list[str] = []
    failed_before = len(cached.failures)
    rows, method = _elicit(experiment, config, cached, personas, notes)
    provenance = {"model": cached.backend.describe(),
                  "model_hash": str(cached.fingerprint.get("sha256", ""))}
    write_demonstrations(folder / "demonstrations.parquet", to_frame(experiment, rows, provenance))
    frame = read_demonstrations(folder / "demonstrations.parquet")
    policy, training = _learn(experiment, frame, config, folder, notes)
    policies: dict[str, Policy] = {DEMONSTRATIONS: TablePolicy(experiment, frame),
                                   POLICY: policy, **experiment.baselines()}
    composed = study(experiment.id)
    analysis = assess_study(experiment, policies, personas, study=composed,
                            settings=EvalSettings(episodes=config.episodes, seed=config.seed),
                            n_boot=config.bootstrap, seed=config.seed)
    fits = fit_structural(experiment, composed.models(experiment), policies, personas,
                          n_boot=config.bootstrap, seed=config.seed)
    robust = robustness(frame, seed=config.seed)
    noise = _numerical_noise(experiment, config, cached, personas, method)
    population = assess_population(
        experiment, composed, policies, personas, analysis=analysis, n_boot=config.bootstrap,
        settings=EvalSettings(episodes=config.episodes, seed=config.seed), seed=config.seed,
        held_out=training["generalisation"])
    controls = (run_controls(experiment, personas, cached, config, method=method, rows=rows,
                             folder=folder, findings=analysis.findings,
                             metrics={**analysis.metrics, "population": population or {}},
                             provenance=provenance)
                if config.controls else not_run())
    factors = (run_factors(experiment, personas, cached, config, method=method, rows=rows,
                           folder=folder, provenance=provenance)
               if config.factors else factors_not_run())
    return ExperimentResult(experiment, analysis, {**diagnostics(frame), "numerical_noise": noise},
                            training, method, notes + _robustness_note(robust), robust,
                            list(fits.fits), list(fits.left_out),
                            cached.failures[failed_before:], controls, population, factors)


def failed_cells(failures: list[dict[str, Any]]) -> list[str]:
    """``persona @ state`` of each cell with a failed call, once each, in order of failure."""
    from .experiments.core import state_key

    cells = [f"{f['persona']} @ {state_key(f['state'])}" for f in failures]
    return list(dict.fromkeys(cells))


SUMMARY_FORMAT = 3
"""Version of ``summary.json``: 2 added robustness, fits, scorecard and curves; 3 nests the
per-persona statistics as ``metrics.per_persona.<source>.<persona>`` and names the backend that
actually ran (not the configured model string). Fields added since, which readers of older
files must treat as optional: ``from_paper``, ``references`` (the human reference's distinct
citations: ``key``, ``source``, ``tag``), ``fits_left_out`` (fits not made, with the reason),
``robustness.not_varied``, ``robustness.personas_sampled`` and ``factors.<study>.personas_sampled``
(``kept``, ``of``, ``max_cells``: the decomposition on a seeded sample of a population's
personas, ``None`` when whole), ``decision_rule``, ``metrics.uncertainty`` (how the findings'
intervals were made), ``metrics.distance_to_humans.demonstrations_interval`` and
``..._failure_bound``, the findings' ``direction``, ``test``, ``interval``, ``p_holds``,
``p_value``, ``draws``, ``resampled``, ``n_boot``, ``replicates``, ``point_reproduced``,
``agreement``, ``failure_bound``, ``failure_robust`` and ``outcome``, the scorecard's
``gates_failed``, ``imitation``, ``claims_refuted``, ``claims_undecided``,
``verdict_probability`` and ``verdict_distribution``, and the diagnostics'
``parse_failures_by_persona``, ``parse_failures_by_state`` and ``parse_failures_worst_cell``;
``failed_calls`` (per study: calls that failed after their retries, the cells they belong to
and their kinds; at the top: the total and how to retry), present only where calls failed;
double-or-nothing (v2, loss frame in the grid) per persona: ``framing_effect`` (P(gamble | round
0, p = 0.5) in the loss frame minus in the gain frame) and ``p_gamble_round0_loss_by_win_prob``;
``controls`` (per study and at the top; :mod:`subrational.controls`): without ``--controls``
``{"run": false, "note"}``; with it, per study ``version``, ``rule`` (the design-choice decision
rules), ``interval`` (how the intervals were made: within cells, or people resampled first
for a population, the disguise's shift paired), ``headline`` (``label``, ``value``,
``interval``, ``n``), ``personas`` (rows
``condition`` no-persona / economist, ``text``, ``headline``, ``difference`` to the run's,
``persona_matters``), ``placebo`` (``real_axis``, ``real_effect``, ``traits``: ``trait``,
``levels``, ``effect``, ``stereotyping``; ``stereotyping``; ``population``: the rows of kind
``placebo`` of the block's ``population.heterogeneity`` where present), ``disguise`` (``available``;
with it ``framing_version``, ``disguised``, ``shift``, ``verdict`` survives / vanishes /
undecided, ``demonstrations``, ``findings``: ``claim``, ``standard``, ``disguised``), ``recall``
(rows ``id``, ``question``, ``human``, ``source``, ``recall``, ``invalid``, ``draws``,
``simulated_label``, ``simulated``, ``closer_to_recall_than_humans``, ``verdict``),
``conclusion`` and ``verdict`` (the scorecard's word); at the top ``verdicts`` per study,
``stereotyping`` and ``recall_suspected`` (the studies flagged). Every ``value`` comes with its
95 % ``interval``; per-study metrics of the version 2 manipulations, present only for those studies:
``metrics.survival_at_caps`` and ``metrics.adult_reliability`` (marshmallow-v2),
``metrics.completion_days`` and ``metrics.deadline_schedule`` (procrastination-v2), each
keyed by source.;
``population`` (per study, only with ``--population``; :mod:`.evaluation.people`): ``people``,
``personas``, ``axis``, ``labels``, ``support_label``, ``marks``, ``human`` (the human.json
block ``population``), ``notes``, ``interval``; ``sources.<source>`` with ``statistics`` (rows
``statistic``, ``label``, ``value``, ``interval``, ``n_boot``, ``human``, ``relation``,
``compare``, ``human_source``, ``tag``), ``distribution`` (``x``, ``p``: the mixture of the
personas' own), ``values`` (persona -> outcome -> value) and ``homogenisation`` (rows
``outcome``, ``between_sd``, ``within_sd``, ``ratio``, ``ratio_to_human`` (each ``value``,
``interval``), ``human_sd``, ``sentence``); ``heterogeneity`` (rows ``source``, ``outcome``,
``trait``, ``level``, ``kind`` trait|placebo|axis, ``effect`` (standardised beta),
``interval``, ``p``, ``p_holm``, ``se``, ``n``, ``covariance``, ``human``, ``flag``) and
``held_out`` (= ``training.generalisation``, which for a population holds out people:
``kind`` "people", ``held_out``, ``share``, ``train_tv``, ``held_out_tv``, ``nearest_tv``,
``linear_tv``, ``noise_floor_tv``, ``trait_range``) and ``training.population_rule`` (how a
population's policy is trained: :data:`POPULATION_TRAINING`);
``factors`` (per study and at the top; :mod:`subrational.factors`): without ``--factor``
``{"run": false, "note"}``; with it, at the top ``version``, ``factors`` and ``levels``; per
study ``version``, ``scale``, ``method``, ``factors`` (per factor asked: ``levels``, ``share``
and its 95 % ``interval`` (main effect plus interaction with the state, omega squared),
``terms`` (``<f>`` and ``<f>:state``, each ``share`` and ``interval``), or ``not_varied``
with the reason), ``not_varied``, ``noise_floor``, ``residual_df``, ``n_rows``, ``n_boot``,
``not_estimable``, ``cells``, ``design``, ``caveats`` (per factor) and ``demonstrations``
(``factors/demonstrations.parquet``)."""


def _block(r: ExperimentResult) -> dict[str, Any]:
    """One experiment's block of ``summary.json`` (before :func:`to_jsonable`)."""
    composed = study(r.experiment.id)
    return {
        "title": r.experiment.title, "method": r.method, "findings": r.analysis.findings,
        "metrics": r.analysis.metrics, "diagnostics": r.diagnostics,
        "training": r.training, "robustness": r.robustness, "fits": r.fits,
        "fits_left_out": r.fits_left_out, "curves": r.analysis.curves,
        "notes": r.analysis.notes + r.notes, "from_paper": composed.from_paper,
        "references": composed.human.references(), "controls": r.controls,
        "factors": r.factors or factors_not_run(),
        **({"population": r.population} if r.population else {}),
        # Only where calls failed, so that a complete re-run's summary equals a fault-free one.
        **({"failed_calls": {"calls": len(r.failed_calls),
                             "cells": failed_cells(r.failed_calls),
                             "kinds": dict(Counter(f["kind"] for f in r.failed_calls))}}
           if r.failed_calls else {}),
    }


def _summary(config: RunConfig, results: list[ExperimentResult], *,
             model: str) -> dict[str, Any]:
    summary = to_jsonable({
        "format_version": SUMMARY_FORMAT,
        "model": model,
        "method": config.method,
        "seed": config.seed,
        "verdict_rule": VERDICT_RULE,
        "decision_rule": DECISION_RULE,
        "experiments": {r.experiment.id: _block(r) for r in results},
    })
    summary["controls"] = run_summary(summary["experiments"], enabled=config.controls)
    summary["factors"] = factors_summary(bool(config.factors), config.factors)
    for block in summary["experiments"].values():
        block["scorecard"] = scorecard(block)
    failed = sum(len(r.failed_calls) for r in results)
    if failed:
        summary["failed_calls"] = {"calls": failed, "retry": RETRY_HINT}
    return summary


RETRY_HINT = "run the same command again: only the failed calls are retried"
"""What to do about failed calls (the report, the CLI line and ``summary.json`` say it)."""


MANIFEST_FORMAT = 2
"""Version of ``manifest.json``: 2 added ``cost`` (calls, cache hits, tokens and cost per study
and in total, with the price used: :func:`subrational.accounting.cost_manifest`) and
``backend`` (what the backend learnt while it ran, where it says anything; ``rate_limits``
there: the limits in force and their source). Added since, optional for readers:
``calls.failed_calls`` (calls that failed after their retries, not cached) and
``failed_calls`` (one record per failed call: op, experiment, persona, state, kind, reason)."""


def _manifest(config: RunConfig, cached: CachedBackend, experiments: list[Experiment],
              seconds: float, *, per_study: dict[str, CallStats],
              price: PriceMatch | None) -> dict[str, Any]:
    import torch

    from .backends.endpoints import redact_url

    settings = json.loads(config.model_dump_json())
    if settings.get("base_url"):
        settings["base_url"] = redact_url(settings["base_url"])  # never a password on disk
    manifest = {
        "format_version": MANIFEST_FORMAT,
        "subrational": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch": torch.__version__,
        "model": cached.fingerprint,
        "experiments": [e.id for e in experiments],
        "prompt_version": PROMPT_VERSION,
        "population": _population_record(config, experiments),
        "config": settings,
        "calls": {"cache_hits": cached.stats.hits, "model_calls": cached.stats.calls,
                  "failed_calls": cached.stats.failed,
                  "model_seconds": round(cached.stats.seconds, 2),
                  "retries": {"total": cached.stats.total_retries,
                              "by_kind": cached.stats.retries}},
        "cost": cost_manifest(per_study, cached.stats, price),
        "cache": str(cached.cache.path) if cached.cache is not None else None,
        "wall_seconds": round(seconds, 2),
    }
    diagnostics_ = cached.backend.diagnostics()
    if diagnostics_:
        manifest["backend"] = diagnostics_
    if cached.failures:
        manifest["failed_calls"] = [{**f, "state": str(f["state"])} for f in cached.failures]
    return to_jsonable(manifest)


def run_population(config: RunConfig) -> Population | None:
    """The population of ``--population`` (``None`` without one), checked row by row."""
    if config.population is None:
        if config.population_size is not None:
            raise ConfigError(f"--population-size {config.population_size}: say which "
                              "population to draw from with --population builtin:NAME")
        return None
    return load_population(config.population, size=config.population_size, seed=config.seed)


def _make(name: str, options: dict[str, Any], population: Population | None) -> Experiment:
    """``make(name, **options)``, with the population's rows as the ``population`` option.

    A study's error about a row names the population file (or built-in), not the option.
    """
    if population is None:
        return make(name, **options)
    short = split_id(name)[0]
    if "population" in options:
        raise ConfigError(f"--population and the study option {short}.population both give "
                          "people; keep one")
    if "population" not in option_names(name):
        raise ConfigError(f"--population {population.source}: {name} takes no population (its "
                          "constructor has no population option); run it without --population")
    try:
        return make(name, **options, population=population.rows())
    except ConfigError as exc:
        raise ConfigError(str(exc).replace(f"study option {short}.population",
                                           population.source, 1)) from None


def study_population(name: str, population: Population | None,
                     config: RunConfig) -> Population | None:
    """The people study ``name`` is asked about: the run's, or its own built-in's.

    A study that takes another built-in than the one named (``--population builtin:adults``
    and the marshmallow test, which takes children) draws its own
    (:attr:`~subrational.experiments.Experiment.population_builtin`) with the same size and
    seed. A population file is never swapped: a study refuses rows it cannot take.
    """
    wanted = getattr(study(name).game, "population_builtin", None)
    if population is None or wanted is None or not population.source.startswith("builtin:") \
            or population.source == f"builtin:{wanted}":
        return population
    return load_population(f"builtin:{wanted}", size=config.population_size, seed=config.seed)


def _population_record(config: RunConfig,
                       experiments: list[Experiment]) -> dict[str, Any] | None:
    """Where the people came from, how many, their digest and each study's template version.

    ``drawn_instead`` names the studies that drew their own built-in (:func:`study_population`).
    """
    population = run_population(config)
    if population is None:
        return None
    own = {e.id: study_population(e.id, population, config) for e in experiments}
    instead = {k: p.describe() for k, p in own.items() if p is not None and p is not population}
    return {**population.describe(),
            "templates": {e.id: e.population_template_version for e in experiments},
            **({"drawn_instead": instead} if instead else {})}


def resolve_experiments(config: RunConfig) -> list[Experiment]:
    """Experiments named in the config (after importing its plugins), or every registered one.

    ``config.options`` are passed to the constructors, and the people of ``--population`` as
    each study's ``population`` option; options for an experiment the run does not include
    are an error, since they would silently do nothing.
    """
    import_plugins(config.imports)
    names = config.experiments or list(latest_ids())
    population = run_population(config)
    experiments = [_make(n, dict(config.options.get(n, config.options.get(split_id(n)[0], {}))),
                         study_population(n, population, config)) for n in names]
    for experiment in experiments:  # a game of one's own is checked before any model call
        if not study(experiment.id).from_paper:
            check_experiment(experiment, episodes=10).raise_if_failed()
    known = {e.name for e in experiments} | set(names)
    for key in config.options:
        if key not in known:
            raise ConfigError(f"options for {key!r}, which this run does not include; run it "
                              f"or remove the options (experiments: {', '.join(sorted(known))})")
    return experiments


def run(config: RunConfig, *, out: Path | None = None, progress: Progress | None = None,
        backend: Backend | None = None) -> RunResult:
    """Run the pipeline for every experiment of ``config`` and write the report.

    ``out`` defaults to ``config.out``; ``backend`` to the one ``config.model`` names.
    """
    from .reporting import write_report

    out = out or config.out
    start = time.perf_counter()
    experiments = resolve_experiments(config)
    check_personas(experiments, config.personas)
    total = (check_plan(experiments, config) + check_controls(experiments, config)
             + check_factors(experiments, config))
    backend = backend or build_backend(config)
    price = price_for(backend, config.prices)
    try:
        check_max_cost(config.max_cost, backend, price)
    except BaseException:
        backend.close()
        raise
    cache = _claim_paths(config, out, backend)
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        if progress:
            progress(done[0], total, "model calls")

    limit = SpendLimit(config.max_cost, price) if config.max_cost is not None and price \
        else None
    cached = CachedBackend(backend, cache, offline=config.offline, on_progress=tick,
                           on_spend=limit)
    per_study: dict[str, CallStats] = {}
    results = []
    try:
        for experiment in experiments:
            before = cached.stats.copy()
            results.append(run_experiment(experiment, config, cached, out))
            per_study[experiment.id] = cached.stats.since(before)
    except SpendLimitReached as exc:
        exc.out = out  # the directory to resume
        raise
    finally:
        backend.close()
    summary = _summary(config, results, model=backend.describe())
    manifest = _manifest(config, cached, experiments, time.perf_counter() - start,
                         per_study=per_study, price=price)
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2, sort_keys=True))
    write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    write_report(out, results, summary, manifest)
    finish_run(out)  # last: only now does the directory read as a finished run
    return RunResult(out, results, summary, manifest)


def _claim_paths(config: RunConfig, out: Path, backend: Backend) -> Cache:
    """Open the cache and claim the run directory, before any model call.

    Either fails in one line (a file in the way, read-only, disk full, a damaged cache, a
    directory holding another run); see :mod:`subrational.rundir` for the resume rule.
    """
    try:
        cache = Cache()
        population = run_population(config)
        identity = {**json.loads(config.model_dump_json()),  # a file edited between resumes
                    **({"population_sha256": population.sha256} if population else {})}
        if not identity.get("factors"):  # a run without them resumes a directory made before
            identity.pop("factors", None)
        start_run(out, config_digest(identity))
    except BaseException:
        backend.close()
        raise
    return cache
