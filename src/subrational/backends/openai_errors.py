"""What the openai backend says when a request fails after its retries: one line, what to do.

Every SDK error and every reply that is not an answer becomes one
:mod:`subrational.errors` line naming the server (credentials stripped), what happened, how
many times, and what to try. Server text is shown with the key blanked out, in case a server
echoes it back.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from ..errors import (
    BackendError,
    LogprobsUnavailableError,
    MissingCredentialsError,
    SubrationalError,
    UsageError,
)
from .endpoints import connection_advice, redact_url
from .replies import BadReply

if TYPE_CHECKING:
    from .openai_api import OpenAIBackend

__all__ = ["translate", "scrub", "short"]


def scrub(text: str, api_key_env: str) -> str:
    """``text`` with the key in ``$api_key_env`` blanked out."""
    key = os.environ.get(api_key_env)
    return text.replace(key, "***") if key else text


def short(exc: Exception, limit: int = 200) -> str:
    """The server's message of ``exc`` on one line, at most ``limit`` characters."""
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    text = " ".join(str(message or exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bad_reply(exc: BadReply, backend: OpenAIBackend, url: str, tries: str) -> SubrationalError:
    if exc.kind == "reasoning-budget":
        return BackendError(f"{backend.model} wrote no answer: {exc.detail}; raise "
                            f"--reasoning-budget (now {backend.settings.reasoning_budget} "
                            "tokens on top of --max-tokens) or choose a lower "
                            "--reasoning-effort")
    if exc.kind == "no-logprobs":
        with_, without = backend.logprob_replies
        if with_ == 0:
            return backend.logprobs_unavailable()
        return BackendError(f"{url} sent no log-probabilities for one prompt {tries}, though "
                            f"{with_} of {with_ + without} replies carried them; try again, "
                            "or use --method sample")
    return BackendError(f"{url} sent a 200 reply that is not an answer {tries} for one request "
                        f"(last: {exc.detail}); nothing of it was cached; check the server's "
                        "log (or a proxy in between) and run again")


def translate(exc: Exception, backend: OpenAIBackend, *, attempts: int = 1,
              sdk: Any) -> SubrationalError:
    """An SDK error or a bad reply, after ``attempts`` tries, as one line that says what to do.

    A 400 that refuses log-probabilities becomes the
    :class:`~subrational.errors.LogprobsUnavailableError` that sends the study to sampling.
    """
    url = redact_url(backend.base_url)
    tries = f"{attempts} time{'s' if attempts > 1 else ''}"
    status = getattr(exc, "status_code", None)
    if isinstance(exc, BadReply):
        return _bad_reply(exc, backend, url, tries)
    if isinstance(exc, (sdk.AuthenticationError, sdk.PermissionDeniedError)):
        return MissingCredentialsError(
            f"the server at {url} rejected the key in {backend.api_key_env} (HTTP {status}); "
            "check its value and the account's access to the model")
    if isinstance(exc, sdk.NotFoundError):
        return UsageError(f"model {backend.model!r} not found at {url} (HTTP 404); check the "
                          "model name (GET /models lists them) and that the base URL ends in /v1")
    if isinstance(exc, sdk.APITimeoutError):
        return BackendError(f"{url} did not answer within {backend.timeout:g} s, {tries}; if "
                            "the model is slow, raise --timeout or lower --concurrency; if "
                            "nothing ever answers, check that an OpenAI-compatible server "
                            "listens at that port")
    if isinstance(exc, sdk.APIConnectionError):
        return BackendError(connection_advice(exc, url, tries))
    if isinstance(exc, sdk.RateLimitError):
        return BackendError(f"{url} answered HTTP 429 (rate limit) {tries}; "
                            "lower --concurrency or try again later")
    if status is not None and status >= 500:
        return BackendError(f"{url} answered HTTP {status} (server error) {tries}; "
                            "check the server's log or try again later")
    detail = scrub(short(exc), backend.api_key_env)
    if status == 400 and "logprob" in detail.lower():
        evidence = f"{url} refused log-probabilities with HTTP 400 ({detail})"
        return LogprobsUnavailableError(f"{evidence}; use --method sample", evidence=evidence)
    hint = ""
    if status == 400 and re.search(r"context length|too large|maximum context", detail, re.I):
        budget = backend.settings.reasoning_budget if backend.settings.caps.reasoning else 0
        hint = ("; lower --max-tokens" + (f" or --reasoning-budget (now {budget})" if budget
                                          else "") + " to fit the model's context")
    return BackendError(f"{url} refused the request (HTTP {status}): {detail}{hint}")
