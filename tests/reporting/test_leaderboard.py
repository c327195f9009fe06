"""The leaderboard ranks models per study by distance to humans, from their summaries."""

from subrational.reporting.leaderboard import leaderboards


def _summary(model, *, distance=None, interval=None, verdict="partly", confirmed=0, checked=2,
             refuted=0, bands=(1, 2), study="ultimatum-v2", measure="mean gap"):
    card = {"verdict": verdict, "verdict_probability": 0.9, "claims_refuted": refuted,
            "paper_findings": {"demonstrations": {"reproduced": confirmed, "checked": checked}},
            "human_bands": {"demonstrations": {"passed": bands[0], "checked": bands[1]}},
            "distance_to_humans": {}}
    if distance is not None:
        card["distance_to_humans"] = {"demonstrations": distance, "policy": distance + 0.01,
                                      **({"demonstrations_interval": interval} if interval
                                         else {})}
    return {"model": model, "experiments": {study: {
        "title": study.title(), "scorecard": card,
        "metrics": {"distance_to_humans": {"measure": measure}}}}}


def test_rows_are_sorted_by_distance_whatever_the_order_given():
    runs = [_summary("a", distance=0.30, interval=[0.25, 0.35], confirmed=0, refuted=2),
            _summary("b", distance=0.05, interval=[0.03, 0.07], verdict="human-like",
                     confirmed=2),
            _summary("c", distance=0.06, interval=[0.04, 0.09])]
    (board,) = leaderboards(runs)
    assert board.study == "ultimatum-v2" and board.measure == "mean gap"
    assert [r.model for r in board.rows] == ["b", "c", "a"]
    assert [r.rank for r in board.rows] == [1, 2, 3]
    assert [r.run for r in board.rows] == [1, 2, 0]  # the run's index keeps its colour
    lead, close, far = board.rows
    assert lead.interval == (0.03, 0.07) and lead.overlaps_leader is None
    assert close.overlaps_leader is True  # [0.04, 0.09] overlaps [0.03, 0.07]
    assert far.overlaps_leader is False
    assert (lead.verdict, lead.claims_confirmed, lead.claims_checked) == ("human-like", 2, 2)
    assert (far.claims_refuted, far.bands_passed, far.bands_checked) == (2, 1, 2)
    assert far.policy_distance == 0.31


def test_a_model_without_a_distance_is_listed_last_unranked():
    runs = [_summary("none"), _summary("far", distance=0.4), _summary("near", distance=0.1)]
    (board,) = leaderboards(runs)
    assert [(r.model, r.rank) for r in board.rows] == [("near", 1), ("far", 2), ("none", None)]
    assert board.rows[1].overlaps_leader is None  # no interval: nothing to decide on


def test_one_board_per_study_and_only_the_runs_that_had_it():
    runs = [_summary("a", distance=0.2),
            {"model": "b", "experiments": {**_summary("b", distance=0.1)["experiments"],
                                           **_summary("b", distance=0.3,
                                                      study="marshmallow-v1")["experiments"]}}]
    boards = leaderboards(runs)
    assert [b.study for b in boards] == ["ultimatum-v2", "marshmallow-v1"]
    assert [r.model for r in boards[0].rows] == ["b", "a"]
    assert [r.model for r in boards[1].rows] == ["b"]


def test_the_controls_column_reads_the_scorecard_and_says_not_run_otherwise():
    with_controls = _summary("a", distance=0.1)
    with_controls["experiments"]["ultimatum-v2"]["scorecard"]["controls"] = "recall"
    (board,) = leaderboards([with_controls, _summary("b", distance=0.2)])
    assert [(r.model, r.controls) for r in board.rows] == [("a", "recall"), ("b", "not run")]
