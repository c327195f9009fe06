"""The verdict follows its written rule."""

from subrational.evaluation.scorecard import scorecard


def _finding(source, ok, kind="paper"):
    return {"claim": "c", "source": source, "statistic": 0.0, "criterion": "", "kind": kind,
            "reproduced": ok}


def _exp(paper_demo, paper_policy, bands=(True, True, True, True), flagged=()):
    findings = ([_finding("demonstrations", ok) for ok in paper_demo]
                + [_finding("policy", ok) for ok in paper_policy]
                + [_finding("demonstrations", ok, "human band") for ok in bands])
    return {"findings": findings, "metrics": {"distance_to_humans": {"demonstrations": 0.1}},
            "fits": [{"source": "demonstrations", "estimates": [
                {"name": "alpha", "inside": True}, {"name": "k", "inside": None}]}],
            "diagnostics": {"option_mass_mean": 0.4},
            "robustness": {"form_beats_state": list(flagged)},
            "training": {"fidelity_tv": 0.01, "generalisation": {"held_out_tv": 0.02,
                                                                  "held_out": ["age-6"]}}}


def test_all_findings_and_most_bands_is_human_like():
    card = scorecard(_exp([True, True], [True, True], bands=(True, True, True, False)))
    assert card["verdict"] == "human-like"
    assert card["paper_findings"]["policy"] == {"reproduced": 2, "checked": 2}
    assert card["fits_inside_human_range"]["demonstrations"] == {"inside": 1, "ranged": 1}
    assert card["fidelity_held_out_tv"] == 0.02 and card["option_mass"] == 0.4


def test_some_findings_is_partly_and_none_is_not_human_like():
    assert scorecard(_exp([True, False], [True, True]))["verdict"] == "partly"
    assert scorecard(_exp([True, True], [True, True], bands=(True, False, False, False)))[
        "verdict"] == "partly"
    assert scorecard(_exp([False, False], [True, True]))["verdict"] == "not human-like"


def test_wording_beating_the_state_is_never_human_like():
    card = scorecard(_exp([True, True], [True, True], flagged=["wording"]))
    assert card["verdict"] == "not human-like" and card["form_beats_state"] == ["wording"]


def test_undefined_findings_do_not_count():
    card = scorecard(_exp([True, None], [True, None]))
    assert card["paper_findings"]["demonstrations"] == {"reproduced": 1, "checked": 1}
    assert card["verdict"] == "human-like"
