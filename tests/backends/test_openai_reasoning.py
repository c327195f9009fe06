"""Reasoning models and honest request settings, against a real local server that refuses
what OpenAI's reasoning models refuse (with OpenAI's own HTTP 400 messages)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("openai")

from subrational.backends.base import (  # noqa: E402
    GenerateRequest,
    Message,
    Prompt,
    ScoreRequest,
)
from subrational.backends.capabilities import DEFAULT_REASONING_BUDGET  # noqa: E402
from subrational.backends.openai_api import OpenAIBackend  # noqa: E402
from subrational.errors import BackendError, LogprobsUnavailableError  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from openai_server import FakeOpenAIServer  # noqa: E402

OPTIONS = ("Accept", "Reject")
EVEN = {"Accept": 0.5, "Reject": 0.5}
REFUSED = {"max_tokens", "temperature", "top_p", "presence_penalty", "frequency_penalty",
           "logprobs", "top_logprobs"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def prompt(i: int = 0) -> Prompt:
    return Prompt((Message("system", "You are a student."), Message("user", f"Offer {i}?")))


def draws(n: int, **kw) -> list[GenerateRequest]:
    return [GenerateRequest(prompt(i), seed=i, max_tokens=160, options=OPTIONS, **kw)
            for i in range(n)]


def make(srv: FakeOpenAIServer, model: str, notices: list[str] | None = None,
         **kw) -> OpenAIBackend:
    sink = notices if notices is not None else []
    return OpenAIBackend(model, base_url=srv.base_url, retry_backoff=0.001,
                         notify=sink.append, **kw)


def test_a_known_reasoning_model_is_sent_only_what_it_takes():
    with FakeOpenAIServer(lambda m: EVEN, reasoning=True, reasoning_tokens=40) as srv:
        b = make(srv, "o3-mini", answers="text", reasoning_effort="low")
        texts = b.generate(draws(3))
        bodies = list(srv.bodies)
        assert srv.requests == 3  # no refusal: nothing had to be learnt
    assert all(t.splitlines()[-1] in ("Answer: Accept", "Answer: Reject") for t in texts)
    for body in bodies:
        assert not REFUSED & set(body), body
        assert body["max_completion_tokens"] == 160 + DEFAULT_REASONING_BUDGET
        assert body["reasoning_effort"] == "low"
    # Low effort bills half the medium reasoning tokens, counted per request.
    assert [u["reasoning_tokens"] for u in b.last_usage()] == [20, 20, 20]
    assert all(u["output_tokens"] == 20 + len(t.split()) for u, t in zip(b.last_usage(), texts,
                                                                         strict=True))
    assert b.usage_totals()["calls"] == 3 and b.usage_totals()["reasoning_tokens"] == 60
    assert b.fingerprint()["reasoning_effort"] == "low"


def test_a_known_reasoning_model_is_not_scored_and_no_request_is_made():
    with FakeOpenAIServer(reasoning=True) as srv:
        b = make(srv, "gpt-5-mini")
        with pytest.raises(LogprobsUnavailableError) as info:
            b.score([ScoreRequest(prompt(), OPTIONS)] * 2)
        assert srv.requests == 0
    assert "capability table says so ('gpt-5*' (shipped))" in info.value.evidence
    assert not b.capabilities.logprobs
    assert b.last_usage() == [dict.fromkeys(("input_tokens", "cached_input_tokens",
                                             "output_tokens", "reasoning_tokens"), 0)] * 2
    assert b.usage_totals()["calls"] == 0


def test_an_unknown_reasoning_model_is_found_out_from_one_refusal():
    notices: list[str] = []
    with FakeOpenAIServer(reasoning=True) as srv:
        b = make(srv, "acme-thinker", notices, max_concurrency=1, answers="text")
        texts = b.generate(draws(4))
        first, *rest = srv.bodies
    assert len(texts) == 4 and len(rest) == 4  # one refusal, then every request answered
    assert first["max_tokens"] == 160 and first["temperature"] == 1.0
    for body in rest:
        assert not REFUSED & set(body)
        assert body["max_completion_tokens"] == 160 + DEFAULT_REASONING_BUDGET
    [line] = notices
    assert "acme-thinker refuses max_tokens, as reasoning models do" in line
    assert b.retry_counts() == {}  # an adaptation is not a fault
    assert b.diagnostics()["requests"]["learnt"] == [line]
    with pytest.raises(LogprobsUnavailableError, match="cannot be scored"):
        b.score([ScoreRequest(prompt(), OPTIONS)])


def test_scoring_an_unknown_reasoning_model_falls_back_at_the_first_refusal():
    with FakeOpenAIServer(reasoning=True) as srv:
        b = make(srv, "acme-thinker")
        with pytest.raises(LogprobsUnavailableError) as info:
            b.score([ScoreRequest(prompt(i), OPTIONS) for i in range(6)])
        seen = srv.requests
        with pytest.raises(LogprobsUnavailableError):
            b.score([ScoreRequest(prompt(9), OPTIONS)])
        assert srv.requests == seen  # known now: no request
    assert "refuses max_tokens, as reasoning models do" in info.value.evidence


def test_a_refused_temperature_is_dropped_and_the_model_still_scored():
    notices: list[str] = []
    with FakeOpenAIServer(reject_fields=("temperature",)) as srv:
        b = make(srv, "fixed-temp", notices, max_concurrency=1)
        [scores] = b.score([ScoreRequest(prompt(), OPTIONS)])
        texts = b.generate(draws(2, temperature=0.7))
        bodies = list(srv.bodies)
    assert math.exp(scores.logprobs[0]) == pytest.approx(0.7)
    assert "temperature" in bodies[0] and all("temperature" not in b_ for b_ in bodies[1:])
    assert len(texts) == 2 and len(bodies) == 4
    assert notices[0].startswith("fixed-temp refuses a temperature")
    assert notices[1] == "fixed-temp takes no temperature: it samples at its default (1), not " \
        "at 0.7"


def test_hidden_reasoning_that_eats_the_budget_is_one_clear_line_not_retried():
    with FakeOpenAIServer(reasoning=True, reasoning_tokens=500) as srv:
        b = make(srv, "o4-mini", answers="text", reasoning_budget=100)
        with pytest.raises(BackendError) as info:
            b.generate(draws(1))
        assert srv.requests == 1  # asking again would spend the same tokens for nothing
    text = str(info.value)
    assert "o4-mini wrote no answer: hidden reasoning used the whole completion budget" in text
    assert "raise --reasoning-budget (now 100 tokens" in text and "\n" not in text
    assert b.last_usage()[0]["reasoning_tokens"] == 500  # billed all the same


def test_a_server_limiting_top_logprobs_is_asked_for_its_limit_and_says_so():
    notices: list[str] = []
    dist = {"Accept": 0.5, "Reject": 0.2, "Acc": 0.1, "x": 0.05, "y": 0.05, "z": 0.05,
            "w": 0.05}
    with FakeOpenAIServer(lambda m: dist, max_logprobs=5) as srv:
        b = make(srv, "small-cap", notices, max_concurrency=4)
        results = b.score([ScoreRequest(prompt(i), OPTIONS) for i in range(8)])
        asked = [body["top_logprobs"] for body in srv.bodies]
    assert all(math.exp(r.logprobs[0]) == pytest.approx(0.6) for r in results)
    assert all(r.detail == {"scored": "first-token", "top_logprobs": 5} for r in results)
    assert asked.count(20) >= 1 and asked.count(5) == 8  # every request answered at the limit
    [line] = notices
    assert line.startswith("the server allows at most 5 alternative log-probabilities (asked "
                           "for 20)")
    assert b.capabilities.logprobs  # still the choice-probs method


def test_a_plain_logprobs_refusal_still_falls_back_to_sampling():
    with FakeOpenAIServer(reject_logprobs=True) as srv:
        with pytest.raises(LogprobsUnavailableError, match="refused log-probabilities"):
            make(srv, "no-lp").score([ScoreRequest(prompt(), OPTIONS)])


def test_every_sampling_setting_is_sent_and_server_extras_by_kind():
    kinds = {"vllm": {"top_k": -1, "min_p": 0.0, "repetition_penalty": 1.0},
             "llamacpp": {"top_k": 0, "min_p": 0.0, "repeat_penalty": 1.0}, "fake": {}}
    for owned_by, extras in kinds.items():
        with FakeOpenAIServer(models=("m",), owned_by=owned_by) as srv:
            b = make(srv, "m", answers="text")
            fingerprint = b.fingerprint()
            b.generate(draws(1))
            [body] = srv.bodies
        assert (body["temperature"], body["top_p"]) == (1.0, 1.0)
        assert (body["presence_penalty"], body["frequency_penalty"]) == (0.0, 0.0)
        assert {k: body[k] for k in extras} == extras
        assert not {"top_k", "min_p", "repetition_penalty", "repeat_penalty"} - set(extras) \
            & set(body)
        sampling = fingerprint["sampling"]
        assert sampling["top_p"] == 1.0 and sampling.get("top_k") == ("off" if extras else None)


def test_an_extra_the_server_refuses_is_dropped_once():
    notices: list[str] = []
    with FakeOpenAIServer(models=("m",), owned_by="vllm", reject_fields=("min_p",)) as srv:
        b = make(srv, "m", notices, max_concurrency=1, answers="text")
        b.fingerprint()
        b.generate(draws(3))
        bodies = list(srv.bodies)
    assert "min_p" in bodies[0] and all("min_p" not in body for body in bodies[1:])
    assert all(body["top_k"] == -1 for body in bodies) and len(bodies) == 4
    assert notices == ["the server refuses min_p: not sent from now on (its own default "
                       "applies)"]


def test_openai_hosts_keep_their_old_cache_identity():
    b = OpenAIBackend("gpt-4o-mini", base_url="https://api.openai.com/v1", offline=True,
                      answers="text")
    assert b.fingerprint() == {"backend": "openai", "model": "gpt-4o-mini",
                               "base_url": "https://api.openai.com/v1"}
    auto = OpenAIBackend("gpt-4o-mini", base_url="https://api.openai.com/v1", offline=True)
    assert "answers" not in auto.fingerprint()  # auto: a scorable model keeps free text
    reasoning = OpenAIBackend("o3-mini", base_url="https://api.openai.com/v1", offline=True)
    assert reasoning.fingerprint()["answers"] == "json-schema"  # auto: its only path


def test_a_local_reasoning_model_is_found_out_from_its_reply_and_given_the_budget():
    notices: list[str] = []
    with FakeOpenAIServer(lambda m: EVEN, local_reasoning=True, reasoning_tokens=300) as srv:
        b = make(srv, "qwen3-8b", notices, max_concurrency=1, answers="text")
        texts = b.generate(draws(3))
        budgets = [body["max_tokens"] for body in srv.bodies]
        with pytest.raises(LogprobsUnavailableError, match="its first token is reasoning"):
            b.score([ScoreRequest(prompt(), OPTIONS)])
    assert budgets == [160] + [160 + DEFAULT_REASONING_BUDGET] * 3  # asked again at once
    assert all(t.splitlines()[-1] in ("Answer: Accept", "Answer: Reject") for t in texts)
    assert notices == [f"qwen3-8b reasons before it answers (its replies say so): its "
                       f"completion budget gets {DEFAULT_REASONING_BUDGET} tokens on top of "
                       "max_tokens"]
    assert b.retry_counts() == {}


def test_a_budget_beyond_the_context_is_not_taken_for_a_reasoning_model():
    with FakeOpenAIServer(lambda m: EVEN, local_reasoning=True, reasoning_tokens=300,
                          max_context=4096) as srv:
        b = make(srv, "qwen3-8b", max_concurrency=1, answers="text")
        with pytest.raises(BackendError) as info:
            b.generate(draws(1))
        assert [body["max_tokens"] for body in srv.bodies] == [160, 8352]
    text = str(info.value)
    assert "'max_tokens' or 'max_completion_tokens' is too large: 8352" in text
    assert text.endswith("; lower --max-tokens or --reasoning-budget (now 8192) to fit the "
                         "model's context")
