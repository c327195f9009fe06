"""Learnability on the marshmallow grid: a known age- and minute-dependent demonstrator.

The scripted child eats with P(eat | minute t, age) = sigmoid(2 - 0.6 * age - 0.15 * t): 0.69 for
a 2-year-old at minute 0, 0.06 for an 8-year-old, and less eating as the minutes pass.
"""

import numpy as np
import pytest
from scipy.special import expit

from subrational.learning import Target, TrainConfig, mean_tv, train_policy
from subrational.studies.marshmallow.game import MarshmallowV1 as Marshmallow

A, B, C = 2.0, 0.6, 0.15
TOLERANCE = 0.03  # mean TV over the full grid; measured 0.0002 (default TrainConfig, 1079 epochs)
HOLDOUT_TOLERANCE = 0.02  # mean TV on age 6 left out of training; measured 0.0005


@pytest.fixture
def exp():
    return Marshmallow()


def scripted(exp, names):
    rows = []
    for name in names:
        persona = exp.persona(name)
        for state in exp.states():
            p_eat = float(expit(A - B * persona.values["age"] - C * state.minute))
            rows.append(Target(persona, state, np.array([p_eat, 1 - p_eat])))
    return rows


def test_recovers_scripted_child_on_the_full_grid(exp):
    targets = scripted(exp, exp.personas)
    assert len(targets) == 7 * 15
    result = train_policy(exp, targets, config=TrainConfig())
    tv = mean_tv(result.policy, targets)
    print(f"\n[learnability marshmallow] mean TV {tv:.5f}, {result.epochs} epochs")
    assert tv < TOLERANCE
    untrained = train_policy(exp, targets, config=TrainConfig(max_epochs=1))
    assert mean_tv(untrained.policy, targets) > 5 * TOLERANCE  # so the bound is a real test
    # the age gradient is learned: at minute 0 a 2-year-old mostly eats, an 8-year-old waits
    young, old = (result.policy.action_probs({"minute": 0}, n)[0] for n in ("age-2", "age-8"))
    assert young == pytest.approx(expit(A - 2 * B), abs=0.02)
    assert old == pytest.approx(expit(A - 8 * B), abs=0.02)


def test_interpolates_the_held_out_age(exp):
    held_out = exp.holdout_personas
    assert held_out == ("age-6",)
    train = scripted(exp, [n for n in exp.personas if n not in held_out])
    result = train_policy(exp, train, config=TrainConfig())
    test = scripted(exp, held_out)
    tv = mean_tv(result.policy, test)
    print(f"\n[learnability marshmallow, age 6 held out] mean TV {tv:.5f}")
    assert tv < HOLDOUT_TOLERANCE
    # copying the nearest trained age (a lookup table's best guess) would not pass the bound
    neighbour = scripted(exp, ["age-5"])
    copy_tv = np.mean([0.5 * np.abs(a.probs - b.probs).sum()
                       for a, b in zip(test, neighbour, strict=True)])
    assert copy_tv > HOLDOUT_TOLERANCE  # 0.053
