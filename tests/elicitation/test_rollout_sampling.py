"""The sample method on a sequential game: the persona plays episodes with its own answers."""

import numpy as np
import pytest

from subrational.backends.scripted import ScriptedBackend
from subrational.cache import Cache, CachedBackend
from subrational.elicitation import SampleSettings, elicit
from subrational.elicitation.elicit import MAX_ATTEMPTS
from support import BusState, BusStop, CacheableScripted, bus_truth


def _elicit(backend, personas=("patience-1",), samples=40, seed=0, paraphrases=1):
    game = BusStop()
    cached = CachedBackend(backend, Cache())
    return elicit(game, [game.persona(p) for p in personas], cached, method="sample",
                  settings=SampleSettings(samples=samples), seed=seed, paraphrases=paraphrases)


def _visits(rows):
    out: dict[int, int] = {}
    for r in rows:
        out[r.state.minute] = out.get(r.state.minute, 0) + r.n_draws
    return out


def test_episodes_start_at_the_initial_state_and_follow_the_answers():
    rows = _elicit(ScriptedBackend("x", probs_fn=lambda p, s: [0.3, 0.7]), samples=200)
    visits = _visits(rows)
    assert visits[0] == 400  # 200 episodes per option order, all start at minute 0
    # Each minute is reached only by episodes that waited before: about 0.7 of the previous.
    for t in (1, 2, 3):
        assert visits[t] / visits[t - 1] == pytest.approx(0.7, abs=0.08)
    wait = np.mean([r.probs[1] for r in rows if r.state == BusState(0)])
    assert wait == pytest.approx(0.7, abs=0.06)


def test_a_walk_answer_ends_the_episode():
    rows = _elicit(ScriptedBackend("x", probs_fn=lambda p, s: [1.0, 0.0]), samples=5)
    assert {r.state for r in rows} == {BusState(0)}
    assert sum(r.n_draws for r in rows) == 10


def test_unparseable_answers_are_retried_then_the_episode_is_abandoned():
    backend = ScriptedBackend("x", probs_fn=bus_truth, texts_fn=lambda *a: "I do not know.")
    rows = _elicit(backend, samples=3)
    assert {r.state for r in rows} == {BusState(0)}
    assert all(r.status == "failed" for r in rows)
    assert sum(r.n_failed for r in rows) == sum(r.n_draws for r in rows) == 2 * 3 * MAX_ATTEMPTS


def test_same_seed_replays_from_the_cache_and_another_seed_draws_anew():
    first = _elicit(CacheableScripted.make(bus_truth), samples=10)
    replay_backend = CacheableScripted.make(bus_truth)
    replay = _elicit(replay_backend, samples=10)
    assert replay_backend.calls == 0
    assert [r.probs for r in replay] == [r.probs for r in first]
    other_backend = CacheableScripted.make(bus_truth)
    _elicit(other_backend, samples=10, seed=1)
    assert other_backend.calls > 0


def test_every_wording_gets_its_own_episodes():
    rows = _elicit(ScriptedBackend("x", probs_fn=lambda p, s: [1.0, 0.0]), samples=5,
                   paraphrases=None)
    assert sorted({r.paraphrase for r in rows}) == [0, 1, 2]
    assert sum(r.n_draws for r in rows) == 3 * 2 * 5
