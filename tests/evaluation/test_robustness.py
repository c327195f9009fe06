"""The variance decomposition returns the effects a scripted model was built with."""

import numpy as np
import pandas as pd
import pytest

from subrational.backends.base import OptionScores
from subrational.backends.scripted import ScriptedBackend
from subrational.cache import Cache, CachedBackend
from subrational.demonstrations import to_frame
from subrational.elicitation import elicit
from subrational.evaluation.robustness import persona_sensitivity, robustness, variance_shares
from support import BusState, BusStop

WORDING = {"wait for a bus": 0.0, "at a bus stop": 0.1, "bus is late": -0.1}


class Additive(ScriptedBackend):
    """P(Walk) = 0.3 + slope * minute + a wording effect + 0.05 when Walk is listed first."""

    def __init__(self, persona_effect=0.0, slope=0.1):
        super().__init__("x", probs_fn=lambda p, s: [0.5, 0.5])
        self.persona_effect, self.slope = persona_effect, slope

    def score(self, requests):
        out = []
        for req in requests:
            system, user = req.prompt.messages[0].content, req.prompt.messages[-1].content
            wording = next(v for k, v in WORDING.items() if k in system)
            order = 0.05 if user.endswith("Walk or Wait.") else -0.05
            patience = req.prompt.meta["persona"].values["patience"]
            p = (0.3 + self.slope * req.prompt.meta["state"].minute + wording + order
                 + self.persona_effect * (patience - 1))
            probs = [p, 1 - p] if req.options[0] == "Walk" else [1 - p, p]
            out.append(OptionScores(tuple(float(np.log(x)) for x in probs)))
        return out


class OneStop(BusStop):
    """The bus stop asked about at one moment only: a game with a single decision state."""

    name = "one-stop"

    def states(self):
        return [BusState(0)]


def _frame(backend, personas=("patience-1",), paraphrases=None, game_cls=BusStop):
    game = game_cls()
    rows = elicit(game, [game.persona(p) for p in personas], CachedBackend(backend, Cache()),
                  paraphrases=paraphrases)
    return to_frame(game, rows, {})


def test_shares_equal_the_built_in_variance_components():
    shares = variance_shares(_frame(Additive()))
    # Population variances: state {0, .1, .2, .3} -> .0125; wording {0, .1, -.1} -> .00667;
    # order {+.05, -.05} -> .0025. The design is balanced, so they add up to the total.
    total = 0.0125 + 0.02 / 3 + 0.0025
    assert shares["state"] == pytest.approx(0.0125 / total, abs=1e-6)
    assert shares["wording"] == pytest.approx((0.02 / 3) / total, abs=1e-6)
    assert shares["order"] == pytest.approx(0.0025 / total, abs=1e-6)
    # One persona: the persona was not varied, so it has no share (not a share of 0).
    assert shares["persona"] is None and shares["residual"] == pytest.approx(0.0, abs=1e-9)


def test_wording_stronger_than_the_state_is_flagged():
    report = robustness(_frame(Additive(slope=0.06)))  # order .0025 < state .0045 < wording .0067
    assert report["form_beats_state"] == ["wording"]
    assert report["variance_shares"]["wording"] > report["variance_shares"]["state"]
    assert report["not_varied"] == ["persona"]
    assert robustness(_frame(Additive()))["form_beats_state"] == []


def test_persona_sensitivity_measures_the_persona_gap():
    frame = _frame(Additive(persona_effect=0.05), personas=("patience-1", "patience-3"))
    assert persona_sensitivity(frame) == pytest.approx(0.1)
    assert variance_shares(frame)["persona"] > 0.1
    assert persona_sensitivity(_frame(Additive())) is None  # one persona: undefined


def test_one_wording_gives_no_wording_share():
    frame = _frame(Additive(), paraphrases=1)
    shares = variance_shares(frame)
    assert shares["wording"] is None and shares["state"] > 0.8
    assert robustness(frame)["not_varied"] == ["persona", "wording"]


def test_a_game_with_one_decision_state_is_not_flagged():
    # Wording and order move the answers, the state cannot (there is one): it is not varied,
    # not a share of 0 beaten by everything.
    report = robustness(_frame(Additive(), game_cls=OneStop))
    shares = report["variance_shares"]
    assert shares["state"] is None and shares["persona"] is None
    assert shares["wording"] == pytest.approx((0.02 / 3) / (0.02 / 3 + 0.0025), abs=1e-6)
    assert report["not_varied"] == ["state", "persona"]
    assert report["form_beats_state"] == []


def _design(state_effect, wording_effect):
    """A balanced 2 x 2 x 2 design: P(first) = 0.5 +- the state effect +- the wording effect."""
    rows = []
    for state in (0, 1):
        for wording in (0, 1):
            for order in ("A|B", "B|A"):
                p = 0.5 + state_effect * (2 * state - 1) + wording_effect * (2 * wording - 1)
                rows.append({"status": "ok", "probs": [p, 1 - p], "state": str(state),
                             "persona": "p", "paraphrase": wording, "variant": order})
    return pd.DataFrame(rows)


def test_a_tie_with_the_state_is_not_flagged():
    report = robustness(_design(0.1, 0.1))
    shares = report["variance_shares"]
    assert shares["wording"] == pytest.approx(0.5) and shares["state"] == pytest.approx(0.5)
    assert report["form_beats_state"] == []
    assert robustness(_design(0.1, 0.11))["form_beats_state"] == ["wording"]
