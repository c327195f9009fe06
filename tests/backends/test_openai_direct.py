"""The direct POST through the SDK's HTTP client: same bodies, same answers, same errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

openai = pytest.importorskip("openai")

from subrational.backends import openai_direct  # noqa: E402
from subrational.backends.base import Message, Prompt, ScoreRequest  # noqa: E402
from subrational.backends.openai_api import OpenAIBackend  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from openai_server import FakeOpenAIServer  # noqa: E402

OPTIONS = ("Accept", "Reject")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def _requests(n: int) -> list[ScoreRequest]:
    return [ScoreRequest(Prompt((Message("user", f"Offer: {i} of 10."),)), OPTIONS)
            for i in range(n)]


def _handler(messages):
    offer = int(messages[-1]["content"].split()[1])
    return {"Accept": 0.1 + offer / 20, "Reject": 0.9 - offer / 20}


def _scores() -> tuple[list, list, list]:
    with FakeOpenAIServer(_handler) as srv:
        backend = OpenAIBackend("fake-model", base_url=srv.base_url, retry_backoff=0.001,
                                notify=lambda line: None)
        try:
            got = backend.score(_requests(6))
        finally:
            backend.close()
        return [s.logprobs for s in got], srv.bodies, srv.authorizations


def test_the_direct_post_and_the_sdk_post_send_the_same_bodies_and_read_the_same_answers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-direct")
    direct = _scores()
    monkeypatch.setattr(openai_direct, "_prepared", lambda client: None)  # the SDK's own post
    through_sdk = _scores()
    assert direct[0] == through_sdk[0]
    assert sorted(map(str, direct[1])) == sorted(map(str, through_sdk[1]))
    assert direct[2] == through_sdk[2] == ["Bearer sk-test-direct"] * 6


def test_a_refusal_is_the_sdk_status_error_with_its_parsed_body() -> None:
    with FakeOpenAIServer(_handler, reject_fields=("seed",)) as srv:
        import asyncio

        async def post() -> None:
            sdk = openai.AsyncOpenAI(api_key="k", base_url=srv.base_url, max_retries=0)
            try:
                await openai_direct.post_json(sdk, "chat/completions",
                                              {"model": "m", "messages": [], "seed": 1})
            finally:
                await sdk.close()

        with pytest.raises(openai.BadRequestError) as info:
            asyncio.run(post())
        assert info.value.status_code == 400
        assert isinstance(info.value.body, dict) and info.value.body.get("param") == "seed"


def test_a_dead_port_is_the_sdk_connection_error_chained_to_the_transport_error() -> None:
    import asyncio
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def post() -> None:
        sdk = openai.AsyncOpenAI(api_key="k", base_url=f"http://127.0.0.1:{port}/v1",
                                 max_retries=0, timeout=5)
        try:
            await openai_direct.post_json(sdk, "chat/completions", {"model": "m"})
        finally:
            await sdk.close()

    with pytest.raises(openai.APIConnectionError) as info:
        asyncio.run(post())
    assert not isinstance(info.value, openai.APITimeoutError)
    assert info.value.__cause__ is not None
    assert type(info.value.__cause__).__name__ == "ConnectError"
