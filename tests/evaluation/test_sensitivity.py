"""The sensitivity bound of each finding to parse failures, on scripted truths.

The fair ultimatum persona answers unparseably at offer 0.05 with a known probability. The
paper's claim on it averages P(reject) over the unfair offers, so counting every failure as
"Reject" instead of "Accept" moves it by exactly failed / draws at that offer over the number
of unfair offers: the bound must be that wide, hold the point estimate, widen with the failure
rate and leave the typical persona's findings (which saw no failure) at zero width.
"""

import numpy as np
import pytest

from subrational.demonstrations import TablePolicy
from subrational.evaluation.behaviour import EvalSettings
from subrational.evaluation.sensitivity import DISTANCE, failure_sensitivity
from subrational.experiments import make, study
from subrational.studies.marshmallow.game import WAIT
from subrational.studies.marshmallow.game import MarshmallowV1 as Marshmallow
from support import persona_logistic, sample_frame

UNFAIR = "fair persona rejects the most unfair offers more often than not"
SETTINGS = EvalSettings(episodes=200)


def _ultimatum(rate, samples=100):
    game = make("ultimatum")
    frame = sample_frame(game, ["fair", "typical", "selfish"], persona_logistic,
                         lambda p, s: rate if p.name == "fair" and round(s.offer, 2) == 0.05
                         else 0.0, samples=samples)
    return game, frame, TablePolicy(game, frame)


def _bounds(game, policy, analyse=None):
    composed = study(game.id)
    return failure_sensitivity(analyse or composed.analysis, game, policy,
                               [game.persona(p) for p in ("fair", "typical", "selfish")],
                               settings=SETTINGS, human=composed.human)


@pytest.mark.parametrize("rate", [0.1, 0.4])
def test_the_bound_of_a_finding_is_as_wide_as_its_failures_can_move_it(rate):
    game, frame, policy = _ultimatum(rate)
    bounds = _bounds(game, policy)
    b = bounds[UNFAIR]
    cell = frame[(frame["persona"] == "fair") & (frame["state"] == '{"offer":0.05}')]
    failed, draws = int(cell["n_failed"].sum()), int(cell["n_draws"].sum())
    unfair = sum(1 for s in game.states() if 0 < s.offer <= 0.1 + 1e-9)
    print(f"\n[failure rate {rate}] {failed}/{draws} failed: bound [{b.low:.3f}, {b.high:.3f}], "
          f"point {b.point:.3f}")
    assert failed > 0
    assert b.high - b.low == pytest.approx(failed / draws / unfair, abs=1e-12)
    assert b.by_action["Accept"] == b.low and b.by_action["Reject"] == b.high
    assert b.low <= b.point <= b.high
    assert b.reproduced_all is (b.low > 0.51) and b.reproduced_any is (b.high > 0.51)
    for claim, other in bounds.items():  # the typical persona never failed
        if claim.startswith("typical persona:") or claim == DISTANCE:
            assert other.low == other.high == other.point or other.point is None
    assert bounds[DISTANCE].reproduced_all is None and bounds[DISTANCE].low is not None


def test_the_bound_widens_with_the_failure_rate():
    widths = []
    for rate in (0.05, 0.2, 0.5):
        game, _, policy = _ultimatum(rate, samples=60)
        b = _bounds(game, policy)[UNFAIR]
        widths.append(b.high - b.low)
    print(f"\n[widths at failure rates 0.05, 0.2, 0.5] {np.round(widths, 4).tolist()}")
    assert widths[0] < widths[1] < widths[2]


def test_no_failure_means_a_zero_width_bound_without_running_the_analysis_again():
    game, _, policy = _ultimatum(0.0, samples=20)
    composed = study(game.id)
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return composed.analysis(*args, **kwargs)

    bounds = _bounds(game, policy, counting)
    assert calls == [1]  # the observed analysis only
    assert bounds[UNFAIR].by_action == {}
    for b in bounds.values():
        assert b.low == b.high == b.point
    point = counting(game, {"demonstrations": policy}, [game.persona("fair")],
                     settings=SETTINGS, human=composed.human)
    calls.clear()
    given = failure_sensitivity(counting, game, policy, [game.persona("fair")],
                                settings=SETTINGS, human=composed.human, point=point)
    assert calls == [] and given[UNFAIR].low == bounds[UNFAIR].low


def test_abandoned_marshmallow_episodes_bound_the_full_wait_share_exactly():
    # Each abandoned episode is one full wait in the "Wait" world and none in the "Eat" one.
    game = Marshmallow(ages=(5,))
    frame = sample_frame(game, ["age-5"], lambda p, s: [0.03, 0.97],
                         lambda p, s: 0.7 if s.minute == 10 else 0.0, samples=60)
    policy, child = TablePolicy(game, frame), game.persona("age-5")
    composed = study(game.id)
    b = failure_sensitivity(composed.analysis, game, policy, [child], settings=SETTINGS,
                            human=composed.human)["5-year-olds wait"]
    kept, lost = policy.episodes(child), policy.abandoned(child)
    full = sum(t.actions.count(WAIT) == game.horizon for t in kept)
    print(f"\n[age 5] {full} full waits of {len(kept)} episodes, {lost} abandoned: bound "
          f"[{b.low:.3f}, {b.high:.3f}], point {b.point:.3f}")
    assert lost > 5
    assert b.point == pytest.approx(full / len(kept))
    assert b.low == pytest.approx(full / (len(kept) + lost))
    assert b.high == pytest.approx((full + lost) / (len(kept) + lost))
