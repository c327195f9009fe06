"""Version 2: the win-probability axis and the loss frame by default, v1 still registered."""

import json

import numpy as np
import pytest
from scipy.special import expit

from inference_sim import LogisticGambler
from subrational.errors import ConfigError
from subrational.evaluation import analyse_study
from subrational.evaluation.behaviour import EvalSettings
from subrational.experiments import make
from subrational.experiments.core import state_key
from subrational.studies.double_or_nothing.analysis import BY_FRAME
from subrational.studies.double_or_nothing.game import (
    CPTGambler,
    CRRAGambler,
    DoubleOrNothing,
    DoubleState,
    FramedState,
    RiskNeutral,
    cpt_loss_log_ratio,
)

SETTINGS = EvalSettings(episodes=200, seed=3)
REFLECTION = "more risk seeking in the loss frame (reflection)"
LOSS_LEVEL = "gambles more often than not in the loss frame"


def _findings(exp, policy, source="policy"):
    analysis = analyse_study(exp, {"demonstrations": policy, "policy": policy,
                                   **exp.baselines()}, list(exp.personas.values()),
                             settings=SETTINGS)
    return {f.claim: f for f in analysis.findings if f.source == source}, analysis


def test_default_is_version_2_with_both_axes_and_a_pinned_size():
    exp = make("double_or_nothing")
    assert exp.id == "double_or_nothing-v2" and isinstance(exp, DoubleOrNothing)
    assert exp.win_probs == (0.5, 0.6, 0.7, 0.8) and exp.loss_win_probs == (0.5,)
    assert exp.frames == ("gain", "loss") and list(exp.personas) == [
        "stake-10", "stake-100", "stake-1000", "stake-10000"]
    states = exp.states()
    assert len(states) == 25 and len(states) * len(exp.personas) == 100  # v1: 5 x 4 = 20
    assert {(s.frame, s.win_prob) for s in states} == {
        ("gain", 0.5), ("gain", 0.6), ("gain", 0.7), ("gain", 0.8), ("loss", 0.5)}
    assert exp.feature_names() == ["round", "win_prob", "loss_frame", "persona.log_stake"]
    assert exp.state_features(FramedState(2, 0.5, "loss")) == {
        "round": 0.5, "win_prob": 0.5, "loss_frame": 1.0}
    assert state_key(FramedState(3, 0.5, "loss")) == '{"frame":"loss","round":3,"win_prob":0.5}'
    v1 = make("double_or_nothing-v1")
    assert len(v1.states()) * len(v1.personas) == 20


def test_the_loss_frame_pays_what_the_gain_frame_pays():
    exp = DoubleOrNothing()
    persona = exp.persona("stake-100")
    for k in range(5):
        for action in (0, 1):
            gain = exp.transitions(FramedState(k, 0.5, "gain"), action, persona)
            loss = exp.transitions(FramedState(k, 0.5, "loss"), action, persona)
            assert [(p, s.reward, s.terminated) for p, s in gain] == \
                [(p, s.reward, s.terminated) for p, s in loss]
            for (_, g), (_, lo) in zip(gain, loss, strict=True):  # a won flip stays in its frame
                assert (g.next_state is None) == (lo.next_state is None)
                assert lo.next_state is None or lo.next_state.frame == "loss"
    starts = dict((s, p) for p, s in exp.initial_states(persona))
    assert starts[FramedState(0, 0.5, "gain")] == 0.5  # the reference start: half
    assert starts[FramedState(0, 0.5, "loss")] == starts[FramedState(0, 0.8, "gain")] == 0.125
    assert len(starts) == 5 and sum(starts.values()) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    drawn = [exp.initial_state(persona, rng=rng) for _ in range(4000)]
    share = np.mean([s == FramedState(0, 0.5, "gain") for s in drawn])
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / 4000)


def test_the_loss_frame_and_the_axis_can_be_turned_off():
    exp = make("double_or_nothing", loss_win_probs=[], win_probs=[0.5])
    assert exp.frames == ("gain",) and len(exp.states()) == 5
    assert all(s.frame == "gain" for s in exp.states())
    with pytest.raises(ConfigError, match="loss_win_probs"):
        make("double_or_nothing", loss_win_probs=[1.5])


def test_version_1_still_loads_with_its_states_and_words():
    v1 = make("double_or_nothing-v1")
    assert v1.version == 1 and v1.state_type is DoubleState and v1.win_probs == (0.5,)
    assert v1.states()[0] == DoubleState(0, 0.5) and v1.frames == ("gain",)
    assert v1.feature_names() == ["round", "win_prob", "persona.log_stake"]
    persona = v1.persona("stake-10")
    assert "The money is real" in v1.instructions(persona)
    assert v1.state_from_dict({"round": 3, "win_prob": 0.5}) == DoubleState(3, 0.5)
    with pytest.raises(ConfigError, match="framing"):
        make("double_or_nothing-v1", framing="disguised")


@pytest.mark.parametrize("framing", ["standard", "disguised"])
def test_version_2_never_says_the_money_is_real(framing):
    exp = DoubleOrNothing(framing=framing)
    for persona in exp.personas.values():
        texts = list(exp.paraphrases(persona)) + [exp.situation(s, persona)
                                                  for s in exp.states()]
        assert not [t for t in texts if "real" in t.lower() or "really" in t.lower()]


def test_the_loss_frame_is_told_as_losses():
    exp = DoubleOrNothing()
    persona = exp.persona("stake-1000")
    text = exp.situation(FramedState(1, 0.5, "loss"), persona)
    for part in ("won your first flip", "hands you $4,000", "lose $2,000 for sure",
                 "lose all $4,000", "4 flips left"):
        assert part in text
    assert text.endswith("Do you keep and lose $2,000 for sure, or gamble on a flip?")
    gain = exp.situation(FramedState(1, 0.5, "gain"), persona)
    assert "now have $2,000" in gain and "lose" in gain and "for sure" not in gain
    assert exp.instructions(persona) == exp.paraphrases(persona)[0]
    assert len(set(exp.paraphrases(persona))) == 4


# -- baselines in the loss frame --------------------------------------------------------------
def test_cpt_reflects_and_expected_utility_does_not():
    exp = DoubleOrNothing()
    persona = exp.persona("stake-100")
    gain, loss = FramedState(0, 0.5, "gain"), FramedState(0, 0.5, "loss")
    # TK92 medians: log ratio -log 2 - log w-(0.5; 0.69) / 0.88 = +0.2042 -> sigmoid(5 x) 0.735
    assert float(cpt_loss_log_ratio(0.5)) == pytest.approx(0.20422, abs=1e-5)
    assert CPTGambler().action_probs(loss, persona)[1] == pytest.approx(0.73519, abs=1e-5)
    assert CPTGambler().action_probs(gain, persona)[1] == pytest.approx(0.18929, abs=1e-5)
    for frame_blind in (RiskNeutral(), CRRAGambler()):
        np.testing.assert_allclose(frame_blind.action_probs(gain, persona),
                                   frame_blind.action_probs(loss, persona))


# -- findings with a known truth --------------------------------------------------------------
def test_cpt_gambler_rises_with_the_win_probability_and_reflects():
    found, analysis = _findings(DoubleOrNothing(), CPTGambler())
    assert found["gambles more as the win probability rises"].statistic == pytest.approx(1.0)
    assert found["gambles more as the win probability rises"].reproduced
    assert found["clearly gambles at win probability 0.8"].reproduced
    assert found[REFLECTION].statistic == pytest.approx(0.73519 - 0.18929, abs=1e-4)
    assert found[REFLECTION].reproduced and found[REFLECTION].direction == "state"
    assert found[LOSS_LEVEL].reproduced
    assert "Kahneman & Tversky 1979" in found[REFLECTION].source_ref
    human = [c for c in analysis.curves if c.panel == BY_FRAME and c.source == "human"]
    assert human[0].y == [0.16, 0.69] and human[0].y_low[1] < 0.69 < human[0].y_high[1]
    metrics = analysis.metrics["per_persona"]["policy"]["stake-10"]
    assert metrics["framing_effect"] == pytest.approx(0.73519 - 0.18929, abs=1e-4)
    assert metrics["p_gamble_round0_loss_by_win_prob"] == {"0.5": pytest.approx(0.73519,
                                                                                 abs=1e-5)}
    assert any("loss frame" in n and "word" in n for n in analysis.notes)


@pytest.mark.parametrize(("shift", "reproduced"), [(1.5, True), (0.0, False), (-1.0, False)])
def test_a_known_framing_effect_is_measured_exactly(shift, reproduced):
    gambler = LogisticGambler(0.5, b=-0.5, c=-0.3, d=8.0, e=shift)
    found, _ = _findings(DoubleOrNothing(), gambler)
    base = 0.5 - 0.5 * np.arange(4)  # the logit at round 0, fair odds, stakes 10 .. 10,000
    expected = float(np.mean(expit(base + shift) - expit(base)))
    assert found[REFLECTION].statistic == pytest.approx(expected, abs=1e-12)
    assert found[REFLECTION].reproduced is reproduced


def test_without_the_loss_frame_there_is_no_framing_check():
    found, analysis = _findings(DoubleOrNothing(loss_win_probs=[]), CPTGambler())
    assert REFLECTION not in found and LOSS_LEVEL not in found
    assert not [c for c in analysis.curves if c.panel == BY_FRAME]
    assert any("not separated" in n for n in analysis.notes)


def test_a_run_reports_the_framing_effect_with_an_interval(tmp_path, capsys):
    from subrational.backends.scripted import register_script
    from subrational.cli import main

    def framed(persona, state):  # reflects, and answers vary with the wording's block
        return CPTGambler().action_probs(state, persona)

    register_script("cpt-framed", framed)
    code = main(["run", "double_or_nothing", "--model", "scripted:cpt-framed",
                 "--paraphrases", "1", "--persona", "stake-10", "--persona", "stake-1000",
                 "--bootstrap", "5", "--episodes", "20", "--no-progress",
                 "--out", str(tmp_path / "r")])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    (study,) = summary["experiments"].values()
    (found,) = [f for f in study["findings"]
                if f["claim"] == REFLECTION and f["source"] == "demonstrations"]
    assert found["reproduced"] is True
    assert found["statistic"] == pytest.approx(0.73519 - 0.18929, abs=1e-4)
    low, high = found["interval"]
    assert low <= found["statistic"] <= high
