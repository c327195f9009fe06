"""The cache keeps each call's usage; old caches stay readable, their usage unknown (never 0)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from subrational.backends.base import GenerateRequest, Message, Prompt
from subrational.cache import SCHEMA_VERSION, Cache, CachedBackend
from subrational.errors import PathError

pytest.importorskip("openai")

from openai_server import FakeOpenAIServer  # noqa: E402
from subrational.backends.openai_api import OpenAIBackend  # noqa: E402


def _requests(n: int) -> list[GenerateRequest]:
    return [GenerateRequest(Prompt((Message("system", "You are a person."),
                                    Message("user", f"Question {i}: Accept or Reject?"))),
                            seed=i, options=("Accept", "Reject")) for i in range(n)]


def _schema_1_file(path, rows):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE calls (key TEXT PRIMARY KEY, op TEXT, value TEXT NOT NULL, "
               "created REAL)")
    db.executemany("INSERT INTO calls VALUES (?, 'generate', ?, 0)", rows)
    db.commit()
    db.close()


def test_a_schema_1_cache_is_migrated_in_place_and_its_entries_have_unknown_usage(tmp_path):
    path = tmp_path / "calls.sqlite"
    _schema_1_file(path, [("k1", json.dumps({"text": "Answer: Accept"}))])
    cache = Cache(path)
    [record] = cache.get_records(["k1"]).values()
    assert record.value == {"text": "Answer: Accept"} and record.usage is None
    cache.put_many("generate", {"k2": {"text": "Answer: Reject"}},
                   usage={"k2": {"input_tokens": 7, "output_tokens": 3}})
    cache.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    rows = dict(db.execute("SELECT key, usage FROM calls").fetchall())
    db.close()
    assert rows["k1"] is None
    assert json.loads(rows["k2"]) == {"input_tokens": 7, "cached_input_tokens": 0,
                                      "output_tokens": 3, "reasoning_tokens": 0}
    assert Cache(path).get_records(["k2"])["k2"].usage["output_tokens"] == 3  # reopens as is


def test_a_cache_of_a_newer_schema_is_refused_in_one_line(tmp_path):
    path = tmp_path / "calls.sqlite"
    Cache(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    with pytest.raises(PathError, match="written by a newer subrational .cache schema 3; this "
                                        "version reads up to 2"):
        Cache(path)


def test_a_stored_usage_that_is_not_one_reads_as_unknown(tmp_path):
    cache = Cache(tmp_path / "calls.sqlite")
    cache.put_many("generate", {"k": {"text": "x"}})
    cache._db.execute("UPDATE calls SET usage = '{\"input_tokens\": \"lots\"}'")
    assert cache.get_records(["k"])["k"].usage is None


def test_usage_is_stored_with_each_answer_and_replayed_as_what_it_cost(tmp_path):
    requests = _requests(6)
    with FakeOpenAIServer(reasoning=True) as srv:
        backend = OpenAIBackend("o3-mini", base_url=srv.base_url, max_concurrency=4)
        first = CachedBackend(backend, Cache(tmp_path / "calls.sqlite"))
        first.generate(requests)
        billed = backend.usage_totals()
        again = CachedBackend(OpenAIBackend("o3-mini", base_url=srv.base_url),
                              Cache(tmp_path / "calls.sqlite"))
        again.generate(requests)
        assert srv.requests == 6  # the second pass sent nothing
    assert billed["calls"] == 6 and billed["reasoning_tokens"] == 6 * 48
    assert dict(first.stats.paid) == {k: billed[k] for k in first.stats.paid}
    assert first.stats.replayed_unknown == 0 and sum(first.stats.replayed.values()) == 0
    # The replay paid nothing, and knows what its answers cost when they were made.
    assert sum(again.stats.paid.values()) == 0 and again.stats.hits == 6
    assert again.stats.replayed == first.stats.paid


def test_hits_from_before_usage_was_recorded_are_counted_as_unknown(tmp_path):
    requests = _requests(3)
    with FakeOpenAIServer() as srv:
        backend = OpenAIBackend("gpt-4o", base_url=srv.base_url)
        cached = CachedBackend(backend, Cache(tmp_path / "calls.sqlite"))
        cached.generate(requests)
        cached.cache._db.execute("UPDATE calls SET usage = NULL WHERE rowid = 1")
        cached.cache._db.commit()
        again = CachedBackend(backend, Cache(tmp_path / "calls.sqlite"))
        again.generate(requests)
    assert (again.stats.hits, again.stats.replayed_unknown) == (3, 1)
    assert 0 < again.stats.replayed["input_tokens"] < cached.stats.paid["input_tokens"]
