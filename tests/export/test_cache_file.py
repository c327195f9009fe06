"""`subrational cache export|import`: a run shared as a file replays --offline, identically."""

import gzip
import json
import re

import pytest

from openai_server import FakeOpenAIServer
from subrational.cli import main

SECRET = "sk-test-secret-export-42"


def answers(messages):
    """A model whose answers depend on the prompt (so a wrong replay would show)."""
    text = messages[-1]["content"]
    if "offers you" in text:
        offer = float(re.search(r"offers you \$(\d+\.\d\d)", text).group(1)) / 10
        return {"Accept": 0.2 + 0.7 * offer, "Reject": 0.75 - 0.7 * offer, "I": 0.05}
    minute = int(re.search(r"(\d+) minute", text).group(1)) if re.search(r"(\d+) minute",
                                                                         text) else 0
    return {"Eat": 0.2 + 0.04 * minute, "Wait": 0.8 - 0.04 * minute}


ULTIMATUM = ["run", "ultimatum", "--model", "openai:shared", "--persona", "fair",
             "--paraphrases", "1", "--bootstrap", "20", "--no-progress"]
MARSHMALLOW = ["run", "marshmallow", "--model", "openai:shared", "--persona", "age-2",
               "--method", "sample", "--samples", "2", "--paraphrases", "1", "--bootstrap",
               "20", "--episodes", "20", "--no-progress"]


def _lines(path):
    return gzip.decompress(path.read_bytes()).decode().splitlines()


@pytest.mark.parametrize("args", [ULTIMATUM, MARSHMALLOW], ids=["choice-probs", "sequential"])
def test_export_import_then_offline_replay_gives_the_same_summary(args, tmp_path, monkeypatch,
                                                                 capsys):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(tmp_path / "cache-a"))
    with FakeOpenAIServer(answers, require_key=SECRET) as srv:
        url = ["--base-url", srv.base_url]
        assert main([*args, *url, "--out", str(tmp_path / "a")]) == 0, capsys.readouterr().err
        asked = srv.requests
    shared = tmp_path / "shared.jsonl.gz"
    assert main(["cache", "export", str(tmp_path / "a"), str(shared)]) == 0
    header, *entries = [json.loads(line) for line in _lines(shared)]
    assert header["format_version"] == 1 and header["entries"] == len(entries) > 0
    assert header["model"]["base_url"] == srv.base_url
    assert len(entries) <= asked and len({e["key"] for e in entries}) == len(entries)
    assert SECRET not in gzip.decompress(shared.read_bytes()).decode()

    # Someone else: no key, no server, an empty cache.
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(tmp_path / "cache-b"))
    replay = [*args, *url, "--offline"]
    assert main([*replay, "--out", str(tmp_path / "b")]) == 2  # nothing cached yet
    assert "not in the cache" in capsys.readouterr().err
    again = tmp_path / "again.jsonl.gz"  # the empty cache cannot export the run
    assert main(["cache", "export", str(tmp_path / "a"), str(again)]) == 2
    assert "no longer holds every answer" in capsys.readouterr().err and not again.exists()
    assert main(["cache", "import", str(shared)]) == 0
    assert f"imported {len(entries)} cache entries" in capsys.readouterr().out
    assert main([*replay, "--out", str(tmp_path / "c")]) == 0, capsys.readouterr().err
    assert re.search(r"^0 model calls", capsys.readouterr().out, re.M)
    assert ((tmp_path / "a" / "summary.json").read_text()
            == (tmp_path / "c" / "summary.json").read_text())


def _file(path, header, entries, *, raw=None):
    lines = [json.dumps(header), *[json.dumps(e) for e in entries]]
    path.write_bytes(gzip.compress((raw if raw is not None else "\n".join(lines)).encode()))
    return path


HEADER = {"format": "subrational-cache-export", "format_version": 1, "subrational": "0.1.0",
          "cache_format": 1, "model": {"backend": "openai", "model": "m"}, "experiments": [],
          "entries": 0}


def _entry(key, op, value):
    return {"key": key, "op": op, "value": value, "usage": None}


def test_import_never_overwrites_and_never_stores_a_value_that_is_no_answer(tmp_path, capsys):
    from subrational.cache import Cache

    cache_dir = tmp_path / "cache"
    good = _entry("a" * 64, "score", {"logprobs": [-0.1, None], "detail": {}})
    entries = [good, _entry("b" * 64, "score", {"logprobs": [float("nan"), -1.0]}),
               _entry("c" * 64, "generate", {"text": "  "}),
               _entry("d" * 64, "generate", {"text": "Answer: Wait"}),
               _entry("e" * 64, "noise", {"max": "big", "mean": 0.0, "n_prompts": 16})]
    path = _file(tmp_path / "f.jsonl.gz", {**HEADER, "entries": len(entries)}, entries)
    cache = Cache(cache_dir / "calls.sqlite")
    cache.put_many("generate", {"d" * 64: {"text": "Answer: Eat"}})  # already there
    cache.close()
    assert main(["cache", "import", str(path), "--cache-dir", str(cache_dir)]) == 0
    out = capsys.readouterr().out
    assert "imported 1 cache entries" in out and "1 were already there" in out
    assert "3 were not answers" in out
    cache = Cache(cache_dir / "calls.sqlite")
    stored = cache.get_many(["a" * 64, "b" * 64, "c" * 64, "d" * 64, "e" * 64])
    assert stored == {"a" * 64: {"logprobs": [-0.1, None], "detail": {}},
                      "d" * 64: {"text": "Answer: Eat"}}  # the old answer kept


@pytest.mark.parametrize("damage, message", [
    ("not gzip", "not gzipped"),
    ("version", "format version 2"),
    ("truncated", "truncated"),
    ("bad line", "line 2 is not a cache entry"),
    ("not a header", "no 'subrational-cache-export' header"),
    ("key format", "keys of format 9"),
])
def test_a_damaged_or_foreign_file_is_one_line_exit_2(damage, message, tmp_path, capsys):
    path = tmp_path / "f.jsonl.gz"
    entry = _entry("a" * 64, "generate", {"text": "Answer: Wait"})
    if damage == "not gzip":
        path.write_text("hello")
    elif damage == "version":
        _file(path, {**HEADER, "format_version": 2, "entries": 1}, [entry])
    elif damage == "truncated":
        _file(path, {**HEADER, "entries": 2}, [entry])
    elif damage == "bad line":
        _file(path, {**HEADER, "entries": 1}, [{"key": "x", "op": "score"}])
    elif damage == "not a header":
        _file(path, {"hello": 1}, [entry])
    else:
        _file(path, {**HEADER, "cache_format": 9, "entries": 1}, [entry])
    assert main(["cache", "import", str(path), "--cache-dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
