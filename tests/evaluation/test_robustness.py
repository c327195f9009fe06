"""The robustness decomposition against scripted designs whose effects are known.

Rows are built directly as a demonstrations table (persona x state x wording x option order),
with P(first action) = sigmoid(sum of the effects the test puts in), so each test knows which
term moves the answers. The statistical tests count how often the flag fires over many seeds:
a model whose answers follow the content must not be flagged, one that follows the form must.
"""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from subrational.backends.scripted import ScriptedBackend
from subrational.cache import Cache, CachedBackend
from subrational.demonstrations import to_frame
from subrational.elicitation import elicit
from subrational.evaluation.robustness import decompose, persona_sensitivity, robustness
from support import BusState, BusStop

STATES, PERSONAS, WORDINGS, ORDERS = range(11), ("a", "b", "c"), range(4), ("A|B", "B|A")


def _table(logit, *, noise=0.0, seed=0, personas=PERSONAS, states=STATES, wordings=WORDINGS):
    """One row per cell; ``logit(persona_index, state, wording, order_index, rng)``."""
    rng = np.random.default_rng(seed)
    rows = []
    for (i, persona), s, w, (j, order) in itertools.product(
            enumerate(personas), states, wordings, enumerate(ORDERS)):
        p = float(expit(logit(i, s, w, j, rng) + noise * rng.normal()))
        rows.append({"status": "ok", "probs": [p, 1 - p], "state": str(s), "persona": persona,
                     "paraphrase": w, "variant": order})
    return pd.DataFrame(rows)


def human_like(i, s, w, j, rng):
    """Content: the state moves the answer, and the persona changes how much (persona:state)."""
    return 2.0 - (0.3 + 0.3 * i) * s


def form_driven(effects):
    """Form: every wording x state and order has its own random effect, the content none."""
    def logit(i, s, w, j, rng):
        return effects[(w, s)] + 0.8 * (2 * j - 1)
    return logit


def _form_effects(seed):
    rng = np.random.default_rng(1000 + seed)
    return {(w, s): 1.5 * rng.normal() for w in WORDINGS for s in STATES}


def test_a_content_driven_model_shows_its_persona_by_state_effect_and_is_not_flagged():
    report = robustness(_table(human_like, noise=0.3))
    shares = report["variance_shares"]
    assert shares["state"] > 0.5 and shares["persona:state"] > 0.05
    assert shares["wording"] < 0.01 and shares["order"] < 0.01
    assert report["groups"]["content"]["share"] > 0.9
    assert report["form_beats_state"] == []
    lo, hi = report["intervals"]["persona:state"]
    assert lo <= shares["persona:state"] <= hi and lo > 0


def test_a_form_driven_model_is_flagged():
    report = robustness(_table(form_driven(_form_effects(0)), noise=0.3))
    assert report["form_beats_state"] == ["order", "wording"]
    assert report["form_minus_content"]["interval"][0] > 0


def test_the_flag_fires_rarely_on_content_and_almost_always_on_form():
    seeds = range(20)
    false_flags = sum(bool(robustness(_table(human_like, noise=1.0, seed=k), n_boot=100,
                                      seed=k)["form_beats_state"]) for k in seeds)
    hits = sum(bool(robustness(_table(form_driven(_form_effects(k)), noise=1.0, seed=k),
                               n_boot=100, seed=k)["form_beats_state"]) for k in seeds)
    assert false_flags <= 2 and hits >= 18, (false_flags, hits)


def test_pure_noise_has_shares_near_zero_and_is_not_flagged():
    flags = 0
    for k in range(20):
        report = robustness(_table(lambda *a: 0.0, noise=1.0, seed=k), n_boot=100, seed=k)
        assert all(v is None or v < 0.1 for v in report["variance_shares"].values())
        flags += bool(report["form_beats_state"])
    assert flags <= 2


def test_omega_squared_corrects_for_degrees_of_freedom():
    # 11 states of pure noise versus 2 orders of pure noise: raw sums of squares would give the
    # states 10 times the order's share; omega squared gives both about nothing.
    parts = decompose(_table(lambda *a: 0.0, noise=1.0, seed=3), n_boot=50)
    assert parts["shares"]["state"] < 0.02 and parts["shares"]["order"] < 0.02
    assert parts["noise_floor"] == pytest.approx(1.0, rel=0.2)  # the residual variance


def test_a_tie_is_not_flagged():
    def tie(i, s, w, j, rng):
        return 0.5 * (s - 5) / 5 * 2 + 1.0 * (2 * j - 1) * 0.58
    report = robustness(_table(tie, noise=0.5, personas=("a",)), n_boot=200)
    content, form = report["groups"]["content"]["share"], report["groups"]["form"]["share"]
    assert abs(content - form) < 0.15
    assert report["form_beats_state"] == []


def test_factors_not_varied_have_no_share():
    report = robustness(_table(human_like, noise=0.3, personas=("a",), wordings=(0,)))
    shares = report["variance_shares"]
    assert report["not_varied"] == ["persona", "wording"]
    assert shares["persona"] is None and shares["wording"] is None
    assert shares["persona:state"] is None and shares["wording:state"] is None
    assert shares["state"] > 0.9
    # one wording: order:state alone would saturate the design, so it is left out and said so
    assert report["not_estimable"] == ["order:state"] and shares["order:state"] is None


def test_a_game_with_one_decision_state_is_not_flagged():
    one_state = _table(form_driven(_form_effects(0)), noise=0.3, personas=("a",), states=(0,))
    report = robustness(one_state)
    assert report["variance_shares"]["state"] is None
    assert report["not_varied"] == ["state", "persona"]
    assert report["form_beats_state"] == []  # nothing of the content varies: nothing to beat


class Walker(ScriptedBackend):
    """P(Walk) rises with the minute; the real elicitation pipeline builds the table."""

    def __init__(self):
        super().__init__("x", probs_fn=lambda p, s: [float(expit(-1 + s.minute)),
                                                     1 - float(expit(-1 + s.minute))])


def test_the_decomposition_reads_a_real_demonstrations_table():
    game = BusStop()
    rows = elicit(game, [game.persona("patience-1"), game.persona("patience-2")],
                  CachedBackend(Walker(), Cache()))
    frame = to_frame(game, rows, {})
    report = robustness(frame)
    assert report["variance_shares"]["state"] > 0.95
    assert report["form_beats_state"] == [] and report["not_varied"] == []
    assert persona_sensitivity(frame) == pytest.approx(0.0, abs=1e-9)
    assert BusState(0) in game.states()


def test_the_content_and_form_intervals_cover_the_true_shares():
    # Truth: the noise-free logits' content (form) variance over their variance plus the noise's.
    # 264 rows, as in the ultimatum study; measured 56/60 and 57/60 (smaller designs cover less:
    # 49/60 and 53/60 at 88 rows).
    def mixed(i, s, w, j, rng):
        return human_like(i, s, w, j, rng) * 0.3 + 0.4 * (2 * j - 1)

    clean = _table(mixed)
    groups = decompose(clean, n_boot=10)["groups"]
    p = np.stack(clean["probs"])
    total = float(np.var(np.log(p[:, 0] / p[:, 1])))
    truth = {g: groups[g]["share"] * total / (total + 1.0) for g in groups}
    covered = dict.fromkeys(truth, 0)
    for k in range(60):
        noisy = decompose(_table(mixed, noise=1.0, seed=k), n_boot=200, seed=k)["groups"]
        for g in truth:
            covered[g] += noisy[g]["interval"][0] <= truth[g] <= noisy[g]["interval"][1]
    assert min(covered.values()) >= 54, covered  # nominal 95 %: at least 90 % of 60


def test_a_large_population_is_decomposed_on_a_sample_of_whole_personas(monkeypatch):
    """Beyond MAX_CELLS persona x state cells the dense design would not fit in memory (200
    people x 5 stakes x 20 states ran a 24 GiB machine out): a seeded sample of personas, every
    row of each, estimates the same shares. Known truth: people differ by a random intercept
    (SD 1) on a state slope; the sampled decomposition finds the persona share of the full one."""
    from subrational.evaluation import robustness as module

    rng = np.random.default_rng(3)
    people = [f"p{i:03d}" for i in range(120)]
    own = dict(zip(people, rng.normal(0, 1.0, size=len(people)), strict=True))
    frame = _table(lambda i, s, w, j, r: own[people[i]] - 0.4 * s, noise=0.3, personas=people,
                   wordings=range(1))
    whole = decompose(frame, seed=1)
    assert whole["personas_sampled"] is None  # 120 x 11 = 1,320 cells: taken whole
    monkeypatch.setattr(module, "MAX_CELLS", 440)  # 40 personas of 11 states
    part = decompose(frame, seed=1)
    assert part["personas_sampled"] == {"kept": 40, "of": 120, "max_cells": 440}
    assert part["n_rows"] == 40 * 11 * 2
    for term in ("state", "persona"):  # the sample's shares are the whole population's
        assert abs(part["shares"][term] - whole["shares"][term]) < 0.05, term
    again = decompose(frame, seed=1)  # seeded: the same sample
    assert again["shares"] == part["shares"] or again["personas_sampled"] is None
    report = robustness(frame, seed=1)
    assert report["personas_sampled"] == part["personas_sampled"]
