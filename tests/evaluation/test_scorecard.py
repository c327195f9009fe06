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
            "diagnostics": {"option_mass_mean": 0.8},
            "robustness": {"form_beats_state": list(flagged)},
            "training": {"fidelity_tv": 0.01, "generalisation": {"held_out_tv": 0.02,
                                                                  "held_out": ["age-6"]}}}


def test_all_findings_and_most_bands_is_human_like():
    card = scorecard(_exp([True, True], [True, True], bands=(True, True, True, False)))
    assert card["verdict"] == "human-like"
    assert card["paper_findings"]["policy"] == {"reproduced": 2, "checked": 2, "not_assessed": 0}
    assert card["fits_inside_human_range"]["demonstrations"] == {"inside": 1, "ranged": 1}
    assert card["fidelity_held_out_tv"] == 0.02 and card["option_mass"] == 0.8


def test_some_findings_is_partly_and_none_is_not_human_like():
    assert scorecard(_exp([True, False], [True, True]))["verdict"] == "partly"
    assert scorecard(_exp([True, True], [True, True], bands=(True, False, False, False)))[
        "verdict"] == "partly"
    assert scorecard(_exp([False, False], [True, True]))["verdict"] == "not human-like"


def test_wording_beating_the_state_is_never_human_like():
    card = scorecard(_exp([True, True], [True, True], flagged=["wording"]))
    assert card["verdict"] == "not human-like" and card["form_beats_state"] == ["wording"]


def test_undefined_findings_are_not_assessed_and_never_pass():
    # Before: a claim undefined on the LLM's answers left the denominator and a GPA-blind
    # student scored 1/1, "human-like".
    card = scorecard(_exp([True, None], [True, None]))
    assert card["paper_findings"]["demonstrations"] == {"reproduced": 1, "checked": 1,
                                                        "not_assessed": 1}
    assert card["verdict"] == "partly"


def test_the_verdict_is_the_llms_the_policy_is_the_imitation_check():
    # The policy failing the claims the demonstrations reproduce does not change the verdict;
    # it shows as imitation disagreement.
    card = scorecard(_exp([True, True], [False, False]))
    assert card["verdict"] == "human-like"
    assert card["imitation"] == {"agree": 0, "compared": 2}
    assert scorecard(_exp([False, False], [True, True]))["verdict"] == "not human-like"


def test_gates_withhold_the_verdict():
    exp = _exp([True, True], [True, True])
    assert scorecard({**exp, "diagnostics": {"option_mass_mean": 0.3}})["verdict"] == \
        "not assessed"
    card = scorecard({**exp, "method": "sample",
                      "diagnostics": {"option_mass_mean": 0.3, "parse_failure_rate": 0.4}})
    assert card["verdict"] == "not assessed"
    assert card["gates_failed"] == ["parse failure rate 0.40 > 0.25"]
    assert scorecard({**exp, "diagnostics": {"parse_failure_rate": 0.1}})["verdict"] == \
        "human-like"
    # the form beating the content is shown with confidence whatever the option mass
    flagged = _exp([True, True], [True, True], flagged=["order"])
    assert scorecard({**flagged, "diagnostics": {"option_mass_mean": 0.3}})["verdict"] == \
        "not human-like"


def test_the_verdict_probability_counts_replicates_that_give_the_same_verdict():
    exp = _exp([True, True], [True, True], bands=(True, True, True, True))
    marks = ["1110", "1100", "1111", "1111", "1111", "1111"]  # two claims, then four bands
    for f, m in zip([f for f in exp["findings"] if f["source"] == "demonstrations"], marks,
                    strict=True):
        f["replicates"] = m
    card = scorecard(exp)
    # replicates 0, 1: everything holds; 2: a claim fails (partly); 3: no claim holds
    assert card["verdict_distribution"] == {"human-like": 0.5, "partly": 0.25,
                                            "not human-like": 0.25}
    assert card["verdict_probability"] == 0.5


def test_a_study_with_nothing_checked_is_not_assessed():
    for from_paper in (True, False):
        empty = {**_exp([], [], bands=()), "from_paper": from_paper}
        assert scorecard(empty)["verdict"] == "not assessed"
        # Undefined findings (reproduced None) are not checks: still nothing assessed.
        undefined = {**_exp([None], [None], bands=(None,)), "from_paper": from_paper}
        card = scorecard(undefined)
        assert card["verdict"] == "not assessed"
        assert card["paper_findings"]["demonstrations"] == {"reproduced": 0, "checked": 0,
                                                            "not_assessed": 1}
        assert card["human_bands"]["demonstrations"] == {"passed": 0, "checked": 0,
                                                         "not_assessed": 1}
    # Nothing checked is no verdict even when the wording beats the state.
    assert scorecard({**_exp([], [], bands=(), flagged=["wording"]), "from_paper": False})[
        "verdict"] == "not assessed"


def test_an_own_study_is_judged_on_its_own_claims_and_bands():
    bands_only = _exp([], [], bands=(True, True, True, False))
    assert scorecard({**bands_only, "from_paper": False})["verdict"] == "human-like"
    # A paper study must check its paper findings: bands alone do not make it human-like.
    assert scorecard({**bands_only, "from_paper": True})["verdict"] == "partly"
    assert scorecard(bands_only)["verdict"] == "partly"  # an old block: read as a paper study
    own = {**_exp([], [], bands=(True, False, False, False)), "from_paper": False}
    assert scorecard(own)["verdict"] == "partly"
    claims = {"findings": [_finding("demonstrations", False, "claim"),
                           _finding("policy", True, "claim")], "from_paper": False}
    card = scorecard(claims)
    assert card["paper_findings"]["demonstrations"] == {"reproduced": 0, "checked": 1,
                                                        "not_assessed": 0}
    assert card["verdict"] == "not human-like"


def test_design_choices_are_pooled_with_human_bands_and_origin_follows_kind():
    from subrational.evaluation.records import Finding
    assert Finding("c", "policy", 0.0, "", True, origin="design choice").kind == "design choice"
    assert Finding("c", "policy", 0.0, "", True, "human band").origin == "human band"
    assert Finding("c", "policy", 0.0, "", True).origin == "paper claim"
    findings = [_finding(s, True) for s in ("demonstrations", "policy")]
    findings += [_finding(s, False, "design choice") for s in ("demonstrations", "policy")]
    card = scorecard({"findings": findings})
    assert card["design_choices"]["policy"] == {"passed": 0, "checked": 1, "not_assessed": 0}
    assert card["verdict"] == "partly"


def test_an_undecided_claim_is_partly_a_refuted_one_not_human_like():
    exp = _exp([True, True], [True, True])
    demo = [f for f in exp["findings"] if f["source"] == "demonstrations" and f["kind"] == "paper"]
    for f in demo:
        f.update(reproduced=False, outcome="undecided")
    assert scorecard(exp)["verdict"] == "partly"  # not enough draws is not evidence against
    assert scorecard(exp)["claims_undecided"] == 2
    demo[0]["outcome"] = "refuted"
    card = scorecard(exp)
    assert card["verdict"] == "not human-like" and card["claims_refuted"] == 1
