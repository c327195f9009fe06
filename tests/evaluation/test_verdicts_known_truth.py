"""Verdicts against known truths, through the real path (scripted LLM -> elicitation ->
demonstrations -> bootstrap over the LLM's own answers -> decisions -> scorecard).

* Null model: a persona-blind (or state-blind) responder under ``--method sample --samples 10``
  must "reproduce" a finding about a direction over personas (states) in at most 10 % of 40
  seeds. Before the bootstrap decided them (commit 1b208cb) the persona-blind student
  reproduced "lower GPA works later" in 30 % of seeds (the benchmark
  ``benchmarks/sim_inference.py`` prints the whole table).
* Human-identical responders (scripted from the shipped human reference) are judged
  human-like under choice-probs, and at N = 10 in a clear majority of seeds.
* Coverage: the 95 % bootstrap interval of one finding statistic per study covers the true
  value (the same analysis on the responder's exact probabilities) in at least 90 % of seeds.

``--samples 10`` is per wording x option order, as ``subrational run`` uses it: with the default
four wordings and two orders, 80 draws per persona x state (or 80 sampled episodes per persona
in the sequential studies). The seeds are fixed: the test is deterministic.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from inference_sim import (
    NULL_FOR,
    demonstrations,
    human_identical,
    persona_blind,
    state_blind,
)
from subrational.evaluation import DEMONSTRATIONS, assess_study, to_jsonable
from subrational.evaluation.behaviour import EvalSettings
from subrational.evaluation.scorecard import scorecard
from subrational.experiments import study

pytestmark = pytest.mark.slow  # many seeds: scheduled first (conftest)

NULL_SEEDS = range(40)
HUMAN_SEEDS = range(40)
N_BOOT = 200
HUMAN_LIKE_RATE = {"ultimatum": 0.9, "marshmallow": 0.9, "procrastination": 0.9,
                   "double_or_nothing": 0.35}
"""The share of N = 10 seeds a human-identical responder must be judged human-like in.

Double-or-nothing is the exception, and a measured one: its human-identical gambler gambles at
fair odds with mean P = 0.442 (inside the human 0.37-0.47), 0.048 below the paper claim's
threshold (< 0.5 minus the 0.01 coin-toss margin), while 80 draws per stake give the mean a
standard error of about 0.028: "risk averse at fair odds" is confirmed in about half the seeds
and undecided (never refuted) in the others, so the study is "partly" there. More draws
(``--samples 20``) decide it. Version 2 plays half of its sampled episodes at that reference
start (the rest at the other odds and in the loss frame) and has three more claims: measured
15 of 40 seeds human-like, none "not human-like" (with uniform starts: 7 of 40, one "not")."""
COVERED = {"ultimatum": "typical persona: rejects low offers about half the time",
           "marshmallow": "5-year-olds wait",
           "double_or_nothing": "risk averse at fair odds",
           "procrastination": "work piles up near the deadline"}
"""Per study, a finding whose statistic's interval is checked for coverage."""


def _assess(demo, seed):
    return assess_study(demo.experiment, {DEMONSTRATIONS: demo.policy}, demo.personas,
                        settings=EvalSettings(seed=seed), n_boot=N_BOOT, seed=seed,
                        extras=False)


def _verdict(analysis):
    return scorecard({"findings": to_jsonable(analysis.findings), "from_paper": True})


def _mine(analysis):
    return {f.claim: f for f in analysis.findings if f.source == DEMONSTRATIONS}


NULL_CASES = [(s, kind) for s, claims in NULL_FOR.items() for kind in sorted(set(claims.values()))
              if any(NULL_FOR[s][c] == kind for c in claims)
              and s != "ultimatum"]
"""(study, null) pairs whose null findings exist at the default grid (the ultimatum's only
marked finding is a level; double-or-nothing's win-probability and framing findings exist from
version 2, whose default grid has p = 0.8 and the loss frame)."""


@pytest.mark.parametrize(("study_id", "kind"), NULL_CASES)
def test_a_null_model_reproduces_a_direction_in_at_most_a_tenth_of_seeds(study_id, kind):
    responder = (persona_blind if kind == "persona" else state_blind)(study_id)
    claims = [c for c, k in NULL_FOR[study_id].items() if k == kind]
    hits: Counter[str] = Counter()
    for seed in NULL_SEEDS:
        demo = demonstrations(study_id, responder, method="sample", samples=10, seed=seed)
        got = _mine(_assess(demo, seed))
        for claim in claims:
            hits[claim] += bool(got[claim].reproduced) if claim in got else 0
    rates = {c: hits[c] / len(NULL_SEEDS) for c in claims}
    print(f"\n[{study_id}, {kind}-blind, sample N=10, {len(NULL_SEEDS)} seeds] {rates}")
    assert all(rate <= 0.10 for rate in rates.values()), rates


@pytest.mark.parametrize("study_id", list(COVERED))
def test_a_human_identical_responder_is_judged_human_like_under_choice_probs(study_id):
    demo = demonstrations(study_id, human_identical(study_id), method="choice-probs")
    analysis = _assess(demo, 0)
    failed = [f for f in analysis.findings if f.source == DEMONSTRATIONS and not f.reproduced]
    assert _verdict(analysis)["verdict"] == "human-like", failed


def _truth(demo):
    """The finding statistics of the responder's exact probabilities (no draw noise)."""
    composed = study(demo.experiment.id)
    truth = human_identical(demo.experiment.name).truth(demo.experiment)
    point = composed.analysis(demo.experiment, {DEMONSTRATIONS: truth}, demo.personas,
                              settings=EvalSettings(), human=composed.human)
    return {f.claim: f.statistic for f in point.findings if f.source == DEMONSTRATIONS}


@pytest.fixture(scope="module", params=list(COVERED))
def human_runs(request):
    study_id = request.param
    runs = []
    for seed in HUMAN_SEEDS:
        demo = demonstrations(study_id, human_identical(study_id), method="sample", samples=10,
                              seed=seed)
        runs.append((demo, _assess(demo, seed)))
    return study_id, runs


def test_a_human_identical_responder_is_human_like_in_most_seeds_at_n_10(human_runs):
    study_id, runs = human_runs
    verdicts = Counter(_verdict(a)["verdict"] for _, a in runs)
    rate = verdicts["human-like"] / len(runs)
    failing = Counter(c for _, a in runs for c, f in _mine(a).items() if not f.reproduced)
    print(f"\n[{study_id}, human-identical, sample N=10, {len(runs)} seeds] verdicts "
          f"{dict(verdicts)}; checks failing (seeds): {dict(failing)}")
    assert rate >= HUMAN_LIKE_RATE[study_id], (verdicts, failing)
    assert verdicts["not human-like"] == 0, verdicts  # undecided is never "not human-like"


def test_the_interval_of_a_finding_statistic_covers_the_truth(human_runs):
    study_id, runs = human_runs
    truth = _truth(runs[0][0])
    covered: Counter[str] = Counter()
    counted: Counter[str] = Counter()
    for _, analysis in runs:
        for claim, f in _mine(analysis).items():
            t = truth.get(claim)
            if f.interval is None or t is None or not math.isfinite(t):
                continue
            counted[claim] += 1
            covered[claim] += f.interval[0] - 1e-9 <= t <= f.interval[1] + 1e-9
    rates = {c: covered[c] / counted[c] for c in counted}
    print(f"\n[{study_id}] coverage of the 95 % intervals over {len(runs)} seeds: "
          + ", ".join(f"{c}: {r:.2f}" for c, r in rates.items()))
    assert counted[COVERED[study_id]] == len(runs)
    assert rates[COVERED[study_id]] >= 0.9, rates
