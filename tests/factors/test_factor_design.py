"""The factor shares know the truth: a known placement effect is found, a null factor is not."""

from __future__ import annotations

import math
import zlib
from dataclasses import replace

import numpy as np
import pytest
from scipy.special import expit

from subrational.backends.scripted import ScriptedBackend
from subrational.cache import CachedBackend
from subrational.config import RunConfig
from subrational.elicitation import SampleSettings, elicit
from subrational.experiments import make
from subrational.factors import run_factors, with_temperature
from subrational.factors.design import varied
from subrational.factors.levels import LEVELS, own_ask, resolve

LEAN = {"fair": 1.0, "typical": 0.0, "selfish": -1.0}


class PlacementSensitive(ScriptedBackend):
    """P(reject) = sigmoid(lean - 3 offer + shift), ``shift`` only with the persona in the user
    message: a placement effect of known size on the logit scale, and nothing else.

    As a real model's would, a draw depends on the prompt as well as the seed, so that two
    levels of a factor that does nothing are independent draws (not the same ones).
    """

    def __init__(self, shift: float) -> None:
        super().__init__("placement", probs_fn=self._truth)
        self.shift, self._user = shift, False

    def _truth(self, persona, state):
        p = float(expit(LEAN[persona.name] - 3 * state.offer + self.shift * self._user))
        return [1 - p, p]

    def _each(self, requests, call):
        out = []
        for r in requests:
            self._user = r.prompt.meta["persona"].text in r.prompt.messages[1].content
            out.extend(call([r]))
        return out

    def score(self, requests):
        return self._each(requests, super().score)

    def generate(self, requests):
        mixed = [replace(r, seed=(r.seed ^ zlib.crc32(
            "".join(m.content for m in r.prompt.messages).encode())) % 2**31) for r in requests]
        return self._each(mixed, super().generate)


def _block(tmp_path, backend, *, factors, method="sample", seed=0, step=0.1, n_boot=200):
    config = RunConfig(experiments=["ultimatum"], method=method, samples=10, seed=seed,
                       factors=factors, bootstrap=n_boot, options={"ultimatum": {"step": step}})
    exp = make("ultimatum", step=step)
    personas = [exp.persona(n) for n in exp.default_personas]
    cached = CachedBackend(backend, None)
    own = elicit(exp, personas, cached, method=method, seed=seed, paraphrases=1,
                 settings=SampleSettings(config.samples, config.temperature, config.max_tokens))
    return run_factors(exp, personas, cached, config, method=method, rows=own,
                       folder=tmp_path / f"s{seed}", provenance={})


def test_a_known_placement_effect_is_found_and_a_null_factor_is_not(tmp_path):
    false_positives = 0
    for seed in range(6):
        block = _block(tmp_path, PlacementSensitive(1.5), factors=["placement", "reasoning"],
                       seed=seed)
        placement, reasoning = block["factors"]["placement"], block["factors"]["reasoning"]
        assert placement["share"] > 0.05 and placement["interval"][0] > 0, (seed, placement)
        assert reasoning["interval"][0] <= placement["interval"][0]
        false_positives += reasoning["interval"][0] > 0  # the model ignores the question
        assert block["n_rows"] == 11 * 3 * 2 * 4  # states x personas x orders x cells
        assert block["noise_floor"] > 0  # sampled: the draws' noise
    assert false_positives <= 1


def test_a_placement_blind_model_gets_a_placement_share_whose_interval_holds_zero(tmp_path):
    for seed in range(4):
        block = _block(tmp_path, PlacementSensitive(0.0), factors=["placement"], seed=seed)
        assert block["factors"]["placement"]["interval"][0] == 0.0, seed


def test_the_scored_temperature_is_p_to_the_one_over_t_normalised():
    p = np.array([0.2, 0.3, 0.5])
    for t in (0.5, 1.0, 2.0):
        expected = p ** (1 / t) / (p ** (1 / t)).sum()
        assert np.allclose(with_temperature(p, t), expected, rtol=0, atol=1e-12)
    assert with_temperature((0.0, 1.0), 0.5) == (0.0, 1.0)
    assert all(math.isnan(x) for x in with_temperature((math.nan, math.nan), 0.5))
    with pytest.raises(ValueError):
        with_temperature(p, 0.0)


def test_the_temperature_share_is_zero_when_every_probability_is_one_half(tmp_path):
    half = ScriptedBackend("half", probs_fn=lambda persona, state: [0.5, 0.5])
    block = _block(tmp_path, half, factors=["temperature"], method="choice-probs", step=0.25)
    assert block["factors"]["temperature"]["share"] == 0.0
    assert block["factors"]["temperature"]["interval"] == [0.0, 0.0]
    assert half.calls == 5 * 3 * 2  # scored once: both temperatures are the same call


def test_a_scored_temperature_moves_a_state_driven_model(tmp_path):
    # logit P(first) is divided by T exactly, so T = 0.5 doubles the state effect: a
    # temperature x state interaction of known sign, with no sampling noise.
    block = _block(tmp_path, PlacementSensitive(0.0), factors=["temperature"],
                   method="choice-probs", step=0.25)
    temp = block["factors"]["temperature"]
    assert temp["interval"][0] > 0 and temp["terms"]["temperature:state"]["share"] > 0.05
    assert "p^(1/T)" in block["caveats"]["temperature"]


def test_the_cell_laid_out_as_the_run_is_the_runs_own_ask():
    config = RunConfig(method="choice-probs", temperature=1.0)
    cell = {"placement": "system", "reasoning": "direct", "temperature": 1.0}
    assert resolve(cell, config, "choice-probs") == (own_ask(config, "choice-probs"), 1.0)
    sample = RunConfig(method="sample", temperature=1.0)
    assert resolve({**cell, "reasoning": "cot"}, sample, "sample") == (
        own_ask(sample, "sample"), None)
    ask, applied = resolve({"reasoning": "cot", "temperature": 0.5}, config, "choice-probs")
    assert (ask.method, ask.temperature, applied) == ("sample", 0.5, None)  # cot is sampled
    ask, _ = resolve({"reasoning": "direct"}, sample, "sample")
    assert ask.method == "sample" and ask.max_tokens == 16 and ask.layout.question == "direct"
    assert LEVELS["temperature"] == (0.5, 1.0)


def test_placement_is_not_varied_for_a_game_that_weaves_the_persona_in(tmp_path):
    exp = make("ultimatum", step=0.5)
    exp.instructions = lambda p: "A story in which " + p.text.lower()  # type: ignore[method-assign]
    personas = [exp.persona(n) for n in exp.default_personas]
    kept, skipped = varied(exp, personas, ["placement", "reasoning"])
    assert kept == ["reasoning"] and "not in the instructions" in skipped["placement"]
    config = RunConfig(factors=["placement", "temperature"], bootstrap=20)
    backend = CachedBackend(PlacementSensitive(0.0), None)
    own = elicit(exp, personas, backend, paraphrases=1)
    block = run_factors(exp, personas, backend, config, method="choice-probs", rows=own,
                        folder=tmp_path, provenance={})
    assert block["factors"]["placement"]["share"] is None
    assert "cannot be moved" in block["factors"]["placement"]["not_varied"]
    assert block["factors"]["temperature"]["share"] is not None
