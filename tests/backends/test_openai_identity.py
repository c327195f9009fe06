"""Which model answers: the name checked against ``GET /models``, the served identity in the
cache key, and what the replies say, against a real local server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("openai")

from subrational.backends.base import GenerateRequest, Message, Prompt  # noqa: E402
from subrational.backends.openai_api import OpenAIBackend  # noqa: E402
from subrational.backends.served import kind_of_host  # noqa: E402
from subrational.cache import Cache, CachedBackend  # noqa: E402
from subrational.errors import UsageError  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from openai_server import FakeOpenAIServer  # noqa: E402

META = {"meta": {"n_params": 134515008, "size": 138131968, "n_vocab": 49152,
                 "vocab_type": 2}}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def make(url: str, model: str, **kw) -> OpenAIBackend:
    return OpenAIBackend(model, base_url=url, retry_backoff=0.001, notify=lambda line: None,
                         answers="text", **kw)


def draw(seed: int = 0) -> GenerateRequest:
    return GenerateRequest(Prompt((Message("user", "Offer 3?"),)), seed=seed)


def test_a_model_the_server_does_not_list_is_one_line_naming_what_it_has():
    with FakeOpenAIServer(models=("SmolLM2-135M-Instruct-Q8_0.gguf",), owned_by="llamacpp",
                          model_info=META) as srv:
        with pytest.raises(UsageError) as info:
            make(srv.base_url, "gpt-4o").fingerprint()
        assert srv.requests == 0 and srv.listings == 1  # checked before any chat request
    text = str(info.value)
    assert text == (f"the server at {srv.base_url} does not serve 'gpt-4o'; it lists "
                    "SmolLM2-135M-Instruct-Q8_0.gguf: use --model openai:<one of them>")


def test_many_listed_models_are_shortened():
    models = tuple(f"model-{i:02d}" for i in range(12))
    with FakeOpenAIServer(models=models) as srv, pytest.raises(UsageError) as info:
        make(srv.base_url, "nope").fingerprint()
    assert "model-00, model-01" in str(info.value) and "and 4 more" in str(info.value)


def test_a_gemini_style_listing_matches_without_its_prefix():
    with FakeOpenAIServer(models=("models/gemini-2.5-flash",)) as srv:
        assert make(srv.base_url, "gemini-2.5-flash").fingerprint()["model"] == \
            "gemini-2.5-flash"


def test_the_served_identity_enters_the_cache_key(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    with FakeOpenAIServer(models=("chat",), owned_by="vllm") as srv:
        # The same name at the same URL, restarted with other weights in between.
        for root, calls in (("/models/qwen2.5-7b", 1), ("/models/qwen2.5-7b", 1),
                            ("/models/llama-3-8b", 2)):
            srv.model_info = {"root": root, "max_model_len": 4096}
            backend = make(srv.base_url, "chat")
            CachedBackend(backend, cache).generate([draw()])
            assert srv.requests == calls, root  # the same weights hit the cache, others not
            assert backend.fingerprint()["served"] == {"root": root}


def test_a_listing_that_adds_nothing_keeps_the_old_key():
    with FakeOpenAIServer(models=("qwen2.5:7b",), owned_by="library") as srv:
        listed = make(srv.base_url, "qwen2.5:7b").fingerprint()
    with FakeOpenAIServer() as srv:  # no listing at all (404)
        unlisted = make(srv.base_url, "qwen2.5:7b").fingerprint()
    assert "served" not in listed and "served" not in unlisted
    assert {k: v for k, v in listed.items() if k != "base_url"} == \
        {k: v for k, v in unlisted.items() if k != "base_url"}


def test_an_offline_replay_computes_the_same_key_from_the_record(isolated_cache):
    with FakeOpenAIServer(models=("m",), owned_by="llamacpp", model_info=META) as srv:
        online = make(srv.base_url, "m").fingerprint()
        url = srv.base_url
    offline = make(url, "m", offline=True).fingerprint()  # the server is gone
    down = make(url, "m").fingerprint()  # online, but the server does not answer
    assert online == offline == down
    assert online["served"] == META and online["sampling"]["repetition_penalty"] == 1.0
    record = json.loads((isolated_cache / "servers.json").read_text())
    assert record["format"] == 1 and list(record["servers"]) == [f"{url} m"]


def test_a_listing_refused_for_the_key_is_not_an_error(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-chat-only")
    with FakeOpenAIServer(models=("m",), require_key="sk-other") as srv:
        backend = make(srv.base_url, "m")
        assert backend.fingerprint()["model"] == "m"
    assert backend.diagnostics()["server"]["source"] == "no listing (HTTP 401)"


def test_what_the_replies_say_about_who_answered_is_recorded():
    with FakeOpenAIServer(models=("m",), owned_by="vllm", model_info={"root": "/w/m"}) as srv:
        backend = make(srv.base_url, "m")
        backend.fingerprint()
        backend.generate([draw(0), draw(1)])
    diagnostics = backend.diagnostics()
    assert diagnostics["answered_by"] == {"m": 2}
    assert diagnostics["system_fingerprints"] == {"fp_fake": 2}
    assert diagnostics["server"] == {"kind": "vllm", "identity": {"root": "/w/m"},
                                     "source": "GET /models"}
    assert diagnostics["requests"]["sampling"]["top_k"] == -1
    assert json.loads(json.dumps(diagnostics)) == diagnostics


@pytest.mark.parametrize(("url", "kind"), [("https://api.openai.com/v1", "openai"),
                                           ("https://x.openai.azure.com/openai/v1", "openai"),
                                           ("http://127.0.0.1:8000/v1", None)])
def test_openai_hosts_are_known_by_name(url, kind):
    assert kind_of_host(url) == kind
