"""The learner recovers a known double-or-nothing demonstrator and interpolates held-out stakes."""

import numpy as np
import pytest
from scipy.special import expit

from subrational.learning import Target, TrainConfig, mean_tv, train_policy
from subrational.studies.double_or_nothing.game import DoubleOrNothingV1, DoubleState

# Measured with the default TrainConfig on this machine (paper loss): mean TV 0.00003 on the
# default grid and 0.00035 on the four-odds grid; with stake-1000 left out, 0.0059 and 0.0049 on
# the held-out persona. The bounds leave a wide margin and still fail an untrained network.
TOLERANCE = 0.01
HOLDOUT_TOLERANCE = 0.03
ODDS = (0.5, 0.6, 0.7, 0.8)


def p_gamble(stake: float, state: DoubleState) -> float:
    """The scripted contestant: sigmoid(1 - 0.5 log10 w0 - 0.3 k + 8 (p - 0.5))."""
    return float(expit(1.0 - 0.5 * np.log10(stake) - 0.3 * state.round
                       + 8.0 * (state.win_prob - 0.5)))


def demonstrations(exp: DoubleOrNothingV1) -> list[Target]:
    out = []
    for persona in exp.personas.values():
        for state in exp.states():
            g = p_gamble(persona.values["stake"], state)
            out.append(Target(persona, state, np.array([1.0 - g, g])))
    return out


@pytest.fixture(params=[(0.5,), ODDS], ids=["fair-odds", "four-odds"])
def exp(request):
    return DoubleOrNothingV1(win_probs=request.param)


def test_recovers_the_scripted_contestant_on_the_full_grid(exp):
    targets = demonstrations(exp)
    result = train_policy(exp, targets)
    tv = mean_tv(result.policy, targets)
    print(f"\n[learnability double_or_nothing, {len(targets)} targets] mean TV {tv:.5f}, "
          f"{result.epochs} epochs")
    assert len(targets) == 4 * 5 * len(exp.win_probs)
    assert tv < TOLERANCE
    for name in exp.personas:  # every stake, not just on average
        assert mean_tv(result.policy, [t for t in targets if t.persona.name == name]) < TOLERANCE


def test_interpolates_the_held_out_stake(exp):
    targets = demonstrations(exp)
    seen = [t for t in targets if t.persona.name not in exp.holdout_personas]
    held = [t for t in targets if t.persona.name in exp.holdout_personas]
    assert {t.persona.name for t in held} == {"stake-1000"} and len(seen) == 3 * len(held)
    policy = train_policy(exp, seen).policy
    tv = mean_tv(policy, held)
    print(f"\n[generalisation double_or_nothing] held-out stake-1000 mean TV {tv:.5f}")
    assert tv < HOLDOUT_TOLERANCE
    start = DoubleState(0, 0.5)
    rates = [policy.action_probs(start, f"stake-{w}")[1] for w in (100, 1000, 10000)]
    assert rates[0] > rates[1] > rates[2]  # the held-out stake falls between its neighbours


def test_untrained_network_is_not_within_the_bounds():
    exp = DoubleOrNothingV1()
    result = train_policy(exp, demonstrations(exp), config=TrainConfig(max_epochs=1))
    assert result.fidelity > 2 * HOLDOUT_TOLERANCE
