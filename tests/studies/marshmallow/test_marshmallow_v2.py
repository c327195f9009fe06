"""Marshmallow version 2: the untold wait, the bell, Kidd et al.'s adult, the caps, the disguise."""

import hashlib
import re

import numpy as np
import pytest

from subrational.errors import ConfigError
from subrational.evaluation import analyse_study
from subrational.evaluation.behaviour import EvalSettings
from subrational.evaluation.structural import Observations, fit_model
from subrational.experiments import make, study
from subrational.experiments.checks import check_experiment
from subrational.studies.marshmallow import (
    RING,
    WAIT,
    HyperbolicDiscounter,
    Marshmallow,
    MarshmallowState,
    MarshmallowV1,
    WaitState,
)

CUES = ("marshmallow", "treat", "delay", "gratification", "mischel", "bell", "crayon", "sweet",
        "candy", "reward")


def _digest(game, persona="age-5"):
    p = game.persona(persona)
    texts = list(game.paraphrases(p)) + [game.situation(s, p) for s in game.states()]
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


def _findings(analysis, claim):
    return {f.source: f for f in analysis.findings if f.claim == claim}


def test_default_is_version_2_and_version_1_still_loads_with_its_prompts_unchanged():
    assert make("marshmallow").id == "marshmallow-v2"
    old = make("marshmallow-v1")
    assert isinstance(old, MarshmallowV1) and old.horizon == 15
    assert old.states()[0] == MarshmallowState(0) and old.actions == ("Eat", "Wait")
    # the sha256 of every v1 wording and situation, as main had them before version 2
    assert _digest(old) == "74487600812f2666fa2cc859cf668e8aa02e61987117bb130d62eb5eb0d7187b"


def test_version_2_prompts_are_pinned():
    game = make("marshmallow")
    assert _digest(game) == "efde2e48a7642cef731cf6e002e95ce3f33dcd284cf201dec355de3c4d27c812"
    assert _digest(make("marshmallow", framing="disguised")) == (
        "88c3f7b94b271361c63ac04ae81b02d052fb0a05c0eff369b661cd2a4579a6a3")
    p = game.persona("age-4")
    assert game.instructions(p) == (
        "You are Janice, a 4-year-old child. An adult puts one marshmallow and a small bell on "
        "the table in front of you and says: \"I have to leave the room for a while. If you wait "
        "until I come back by myself, you will get two marshmallows. If you don't want to wait "
        "any more, ring the bell: I will come back right away and you can eat this one "
        "marshmallow, but then you will not get a second one.\" Then the adult leaves without "
        "saying how long she will be away, and you are alone with the marshmallow and the bell. "
        "Answer in character.")
    assert game.situation(WaitState(3, False), p) == (
        "Earlier today this same adult gave you a few old crayons and promised to come back "
        "with a big set of new ones, but she came back without them and said: \"I'm sorry, "
        "there aren't any.\" Now the adult has been gone for a while. The marshmallow is still "
        "in front of you. Do you ring the bell now or wait?")


def test_no_prompt_says_how_long_the_wait_is_or_counts_minutes():
    game = Marshmallow(horizon=30)
    p = game.persona("age-5")
    texts = list(game.paraphrases(p)) + [game.situation(s, p) for s in game.states()]
    for text in texts:
        body = text.removeprefix(p.text)
        assert not re.search(r"\d", body) and "minute" not in body, text
    assert len({game.situation(s, p) for s in game.states()}) == len(game.states())
    assert check_experiment(game).ok


def test_the_bell_and_the_adult_axis_are_on_by_default():
    game = Marshmallow()
    assert game.actions == ("Ring", "Wait") and RING == 0 and game.horizon == 10
    assert game.adults == ("reliable", "unreliable") and len(game.states()) == 20
    assert [w for w, _ in game.initial_states(game.persona("age-5"))] == [0.5, 0.5]
    p = game.persona("age-5")
    assert game.step(WaitState(4, False), RING, p).reward == 1.0
    assert game.step(WaitState(9, True), WAIT, p).reward == 2.0
    assert game.step(WaitState(3, False), WAIT, p).next_state == WaitState(4, False)
    assert len(Marshmallow(adults=["reliable"]).states()) == 10


@pytest.mark.parametrize("kwargs", [{"framing": "secret"}, {"adults": ["trustworthy"]},
                                    {"adults": []}, {"horizon": 31}])
def test_bad_options_are_one_line_config_errors(kwargs):
    with pytest.raises(ConfigError) as err:
        make("marshmallow", **kwargs)
    assert "\n" not in str(err.value) and "marshmallow" in str(err.value)


def test_disguised_framing_has_no_textbook_cue_and_the_same_game():
    plain, hidden = Marshmallow(), Marshmallow(framing="disguised")
    assert hidden.framing_version == 1
    assert hidden.states() == plain.states() and hidden.actions == plain.actions
    for persona in hidden.personas.values():
        texts = list(hidden.paraphrases(persona)) + [hidden.situation(s, persona)
                                                     for s in hidden.states()]
        assert len(texts) == 4 + len(hidden.states())
        assert all(t.startswith(persona.text) for t in texts[:4])
        for text in texts:
            body = text.removeprefix(persona.text).lower()
            assert not [c for c in CUES if c in body], text
    p = plain.persona("age-5")
    assert plain.paraphrases(p) != hidden.paraphrases(p)
    assert all(plain.step(s, a, p) == hidden.step(s, a, p)
               for s in plain.states() for a in (RING, WAIT))


class ConstantHazard:
    """Rings with probability h every minute, whoever the adult: survival (1 - h) ** t."""

    h = 0.1

    def action_probs(self, state, persona):
        return np.array([self.h, 1 - self.h])


def _analyse(game, policy):
    pols = dict(game.baselines())
    pols["policy"] = policy
    return analyse_study(game, pols, list(game.personas.values()), settings=EvalSettings())


def test_survival_is_read_at_the_human_caps_7_and_10_minutes():
    game = Marshmallow(ages=(4, 5))
    got = _analyse(game, ConstantHazard()).metrics["survival_at_caps"]["policy"]["age-4"]
    assert got["7"]["value"] == pytest.approx(0.9 ** 7) and got["10"]["value"] == \
        pytest.approx(0.9 ** 10)
    assert "7" in _analyse(Marshmallow(ages=(4,), horizon=8), ConstantHazard()).metrics[
        "survival_at_caps"]["policy"]["age-4"]


def test_a_child_who_trusts_the_unreliable_adult_less_waits_less():
    game = Marshmallow(ages=(3, 4, 5))
    analysis = _analyse(game, HyperbolicDiscounter(horizon=10, unreliable_trust=0.5))
    found = _findings(analysis, "an unreliable adult cuts the mean wait")
    assert found["policy"].reproduced and found["policy"].statistic > 0.1
    assert found["hyperbolic"].reproduced and found["exponential"].reproduced
    assert found["policy"].origin == "human band" and found["policy"].direction == "state"
    numbers = analysis.metrics["adult_reliability"]["policy"]
    assert numbers["mean_wait_minutes_reliable"] > numbers["mean_wait_minutes_unreliable"]
    assert numbers["human"]["reliable_minutes"] == 12.0


def test_a_child_blind_to_the_adult_does_not_show_the_finding():
    game = Marshmallow(ages=(3, 4, 5))
    analysis = _analyse(game, HyperbolicDiscounter(horizon=10, unreliable_trust=1.0))
    found = _findings(analysis, "an unreliable adult cuts the mean wait")["policy"]
    assert found.statistic == pytest.approx(0.0, abs=1e-12) and not found.reproduced


def test_version_1_analysis_has_no_adult_finding():
    game = MarshmallowV1(ages=(4, 5))
    analysis = _analyse(game, ConstantHazard())
    assert not _findings(analysis, "an unreliable adult cuts the mean wait")
    assert "survival_at_caps" not in analysis.metrics


def test_the_fit_recovers_the_trust_placed_in_an_unreliable_adult():
    game = Marshmallow()
    (model,) = study(game.id).models(game)
    assert model.params == ("k", "precision", "trust")
    truth = HyperbolicDiscounter(k=0.2, noise=5.0, horizon=10, unreliable_trust=0.4)
    states = tuple(game.states()) * 8
    p_ring = np.array([truth.action_probs(s, None)[RING] for s in states])
    rng = np.random.default_rng(3)
    theta = fit_model(model, Observations(states, rng.binomial(20, p_ring) / 20),
                      game.persona("age-4"))
    assert theta[2] == pytest.approx(0.4, abs=0.08) and theta[0] == pytest.approx(0.2, abs=0.05)
