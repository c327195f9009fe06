"""Double-or-nothing CPT fit recovers the alpha it simulates, with honest intervals."""

import numpy as np
import pytest

from subrational.evaluation.structural import (
    Observations,
    calibrate,
    fit_structural,
    observations,
)
from subrational.experiments import make, study
from subrational.studies.double_or_nothing.game import CPTGambler, DoubleOrNothingV1

GAME = make("double_or_nothing-v1")
(CPT,) = study(GAME.id).models(GAME)
STAKE = GAME.persona("stake-100")
STATES = tuple(GAME.states()) * 8  # 8 rows per state, like 4 wordings x 2 orders


def _simulate(alpha, rng, trials=20):
    q = CPTGambler(alpha=alpha).action_probs(STATES[0], STAKE)[1]  # same in every fair state
    return Observations(STATES, rng.binomial(trials, np.full(len(STATES), q)) / trials)


def test_alpha_and_ce_ev_are_recovered():
    fit = calibrate(CPT, _simulate(0.88, np.random.default_rng(1)), STAKE, source="sim",
                    n_boot=50, rng=np.random.default_rng(2))
    est = {e.name: e for e in fit.estimates}
    # measured error 0.004; over 200 seeds at alpha 0.6/0.88/1.1 the 95th percentile was
    # 0.03-0.04 and the worst 0.055
    assert est["alpha"].value == pytest.approx(0.88, abs=0.06)
    assert est["ce_ev"].value == pytest.approx(0.748, abs=0.03)  # TK92: CE ~ 0.75 EV
    assert est["alpha"].ci_low < est["alpha"].value < est["alpha"].ci_high
    assert est["alpha"].inside is True and est["ce_ev"].inside is True
    assert est["alpha"].human_low == pytest.approx(0.719, abs=1e-3)
    assert est["alpha"].human_high == pytest.approx(1.163, abs=1e-3)


def test_human_alpha_range_is_the_one_the_ce_ev_band_implies():
    ce_ev = [CPT.values(np.array([a]))["ce_ev"] for a in CPT.human_range["alpha"]]
    assert ce_ev == pytest.approx(list(CPT.human_range["ce_ev"]))
    assert CPT.human_range["ce_ev"] == (0.6, 0.95)


def test_intervals_cover_the_true_alpha_in_most_replications():
    covered = 0
    for rep in range(12):
        data = _simulate(0.88, np.random.default_rng(100 + rep))
        alpha = calibrate(CPT, data, STAKE, source="sim", n_boot=60,
                          rng=np.random.default_rng(200 + rep)).estimates[0]
        covered += alpha.ci_low <= 0.88 <= alpha.ci_high
    assert covered >= 9  # measured 11 of 12 (and 11 with seeds from 300 and from 500)


def test_hook_gives_back_the_alpha_of_a_cpt_policy():
    game = DoubleOrNothingV1(win_probs=(0.3, 0.5, 0.7, 0.8))
    model, _crra = study(game.id).models(game)  # four odds: alpha, gamma and s jointly
    obs = observations(game, CPTGambler(alpha=0.7), STAKE, action=model.action)
    fit = calibrate(model, obs, STAKE, source="policy", n_boot=10,
                    rng=np.random.default_rng(0))
    alpha = fit.estimates[0]
    assert alpha.value == pytest.approx(0.7, abs=1e-3)
    # a deterministic policy has no interval: it is not the LLM's uncertainty
    assert alpha.ci_low is None and alpha.ci_high is None and fit.n_boot == 0


def test_fits_run_per_stake_from_the_policies():
    class StakeCPT:
        def action_probs(self, state, persona):
            alpha = 0.6 if persona.values["stake"] > 500 else 1.0
            return CPTGambler(alpha=alpha).action_probs(state, persona)

    personas = [GAME.persona("stake-10"), GAME.persona("stake-10000")]
    fits = fit_structural(GAME, study(GAME.id).models(GAME), {"policy": StakeCPT()},
                          personas, n_boot=10, seed=0)
    alphas = {f.persona: f.estimates[0].value for f in fits}
    assert alphas == pytest.approx({"stake-10": 1.0, "stake-10000": 0.6}, abs=1e-3)
    assert {f.source for f in fits} == {"policy"}
