"""Held-out persona references: nearest-neighbour copy, interpolation and the noise floor."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from subrational.learning import Target
from subrational.learning.holdout import noise_floor, persona_baselines
from subrational.studies.marshmallow.game import MarshmallowV1 as Marshmallow


def linear_child(persona, state):
    """P(eat) linear in age: interpolating ages 5 and 7 recovers age 6 exactly."""
    p = 0.9 - 0.1 * persona.values["age"] + 0.01 * state.minute
    return np.array([p, 1 - p])


def curved_child(persona, state):
    p = float(expit(2.0 - 0.6 * persona.values["age"] - 0.15 * state.minute))
    return np.array([p, 1 - p])


def split(exp, truth):
    rows = [Target(p, s, truth(p, s)) for p in exp.personas.values() for s in exp.states()]
    return ([t for t in rows if t.persona.name != "age-6"],
            [t for t in rows if t.persona.name == "age-6"])


def test_linear_truth_is_interpolated_exactly_and_copied_with_a_known_error():
    exp = Marshmallow()
    seen, unseen = split(exp, linear_child)
    base = persona_baselines(exp, seen, unseen)["age-6"]
    assert base["nearest"] == "age-5"  # ages 5 and 7 tie; the first name wins
    assert base["nearest_tv"] == pytest.approx(0.1)  # one year of age = 0.1 of P(eat)
    assert base["linear"] == ["age-5", "age-7"]
    assert base["linear_tv"] == pytest.approx(0.0, abs=1e-6)  # float32 persona features


def test_curved_truth_interpolation_beats_the_copy():
    exp = Marshmallow()
    seen, unseen = split(exp, curved_child)
    base = persona_baselines(exp, seen, unseen)["age-6"]
    assert 0.0 < base["linear_tv"] < base["nearest_tv"] / 5  # 0.053 for the copy


def test_edge_persona_has_no_interpolation():
    exp = Marshmallow()
    rows = [Target(p, s, curved_child(p, s)) for p in exp.personas.values() for s in exp.states()]
    base = persona_baselines(exp, [t for t in rows if t.persona.name != "age-8"],
                             [t for t in rows if t.persona.name == "age-8"])["age-8"]
    assert base["nearest"] == "age-7" and base["linear"] is None and base["linear_tv"] is None


def _frame(probs_by_form):
    rows = [{"status": "ok", "persona": "age-6", "state": f'{{"minute": {m}}}', "paraphrase": w,
             "variant": v, "probs": [p, 1 - p]}
            for m, forms in enumerate(probs_by_form) for (w, v), p in forms.items()]
    return pd.DataFrame(rows)


def test_noise_floor_is_the_distance_of_each_wording_to_the_cell_target():
    # minute 0: wordings answer 0.6 and 0.8 (target 0.7, each 0.1 off); minute 1: both 0.5
    frame = _frame([{(0, 0): 0.6, (0, 1): 0.6, (1, 0): 0.8, (1, 1): 0.8},
                    {(0, 0): 0.5, (0, 1): 0.5, (1, 0): 0.5, (1, 1): 0.5}])
    floor = noise_floor(frame, "age-6")
    assert floor == {"tv": pytest.approx(0.05), "between": "wordings", "n_states": 2}
    by_order = noise_floor(_frame([{(0, 0): 0.2, (0, 1): 0.6}]), "age-6")
    assert by_order["between"] == "option orders" and by_order["tv"] == pytest.approx(0.2)
    assert noise_floor(_frame([{(0, 0): 0.2}]), "age-6") is None
    assert noise_floor(frame, "age-2") is None
