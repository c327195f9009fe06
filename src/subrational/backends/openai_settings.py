"""The settings each request of the openai backend sends, and how they adapt to the server.

Design:

* **Every sampling setting is explicit.** A sampled answer sends its temperature, ``top_p`` = 1
  and zero presence and frequency penalties; to a server known to take them (vLLM, SGLang,
  llama.cpp: :mod:`.served`) also a disabled ``top_k``, ``min_p`` = 0 and a repetition penalty
  of 1, in ``extra_body``. Left out, llama.cpp samples with top-k 40, top-p 0.95, min-p 0.05 and
  a repeat penalty of 1.1, and vLLM with the model's generation config: not temperature-1
  sampling. OpenAI's own API refuses unknown fields, so it gets only its own (whose neutral
  values are its defaults, so its cache keys are unchanged). What is sent for sampling is part
  of the cache key (:meth:`RequestSettings.identity`), except for OpenAI's hosts.
* **The model's capabilities** (:mod:`.capabilities`) decide the budget's name
  (``max_completion_tokens`` for reasoning models, with the reasoning budget on top), whether a
  temperature is sent, whether the model can be scored, and whether answers are structured.
* **A 400 that names a setting is learnt from** (:meth:`RequestSettings.adapt`): a refused
  ``max_tokens`` means a reasoning model; a refused temperature, ``top_p``, penalty, extra
  field, ``reasoning_effort``, ``n`` or ``response_format`` is no longer sent; a server that
  allows fewer alternative log-probabilities than asked (vLLM's ``--max-logprobs``: "Requested
  sample logprobs of 20, which is greater than max allowed: 5") is asked for its limit. The
  request is then sent again, the change is kept for the rest of the run and said once. What
  a model refuses is the same on every run, so cached answers stay consistent with their keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..errors import LogprobsUnavailableError
from .capabilities import DEFAULT_REASONING_BUDGET, CapabilityMatch
from .replies import answer_format

__all__ = ["RequestSettings", "NEUTRAL", "EXTRAS", "merged", "request_body"]

NEUTRAL = {"top_p": 1.0, "presence_penalty": 0.0, "frequency_penalty": 0.0}
"""OpenAI's sampling settings at their neutral values (also the OpenAI API's defaults)."""

EXTRAS: dict[str, dict[str, float]] = {
    "vllm": {"top_k": -1, "min_p": 0.0, "repetition_penalty": 1.0},
    "sglang": {"top_k": -1, "min_p": 0.0, "repetition_penalty": 1.0},
    "llama.cpp": {"top_k": 0, "min_p": 0.0, "repeat_penalty": 1.0},
}
"""Neutral values of the settings each server kind takes beyond OpenAI's (``top_k`` -1 or 0
disables it on that server)."""

_CANONICAL = {"repeat_penalty": "repetition_penalty"}  # llama.cpp's name of the same setting
_UNSUPPORTED = re.compile(r"\b(?:not |un)supported\b|\binstead\b", re.IGNORECASE)
_LIMIT = re.compile(r"max(?:imum)?\s+allowed\W*(\d+)", re.IGNORECASE)
_DROPPABLE = {"top_p", "presence_penalty", "frequency_penalty", "seed", "reasoning_effort",
              *(k for extras in EXTRAS.values() for k in extras)}


def _named(param: str | None, message: str, sent: dict[str, Any]) -> str | None:
    """The sent setting a 400 names: its ``param`` field, else the first one in its text."""
    names = set(sent) | set(sent.get("extra_body") or {})
    names.discard("extra_body")
    if param in names:
        return param
    for name in sorted(names, key=len, reverse=True):  # top_logprobs before logprobs
        if re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", message):
            return name
    return None


class RequestSettings:
    """What the requests of one backend send; learns from the server's refusals.

    Args:
        model: The model id (for messages).
        match: Its capabilities and where they came from.
        answers: ``auto``, ``structured`` or ``text``.
        reasoning_effort: Sent to models that take it; ``None`` leaves the model's default.
        reasoning_budget: Completion tokens a reasoning model gets on top of ``max_tokens``.
        top_logprobs: Alternatives asked for when scoring.
        notify: Where the one-line notices go.
    """

    def __init__(self, model: str, match: CapabilityMatch, *, answers: str = "auto",
                 reasoning_effort: str | None = None,
                 reasoning_budget: int = DEFAULT_REASONING_BUDGET, top_logprobs: int = 20,
                 notify: Callable[[str], None]) -> None:
        self.model, self.match, self.caps = model, match, match.capabilities
        self.answers, self.reasoning_effort = answers, reasoning_effort
        self.reasoning_budget, self.top_logprobs = reasoning_budget, top_logprobs
        self.notify = notify
        self.kind = "other"
        self.dropped: set[str] = set()
        self.n_ok = True
        self.structured = answers == "structured"
        self.learnt: list[str] = []
        self._said: set[str] = set()

    def set_kind(self, kind: str) -> None:
        """The server's kind (before the first request); resolves ``auto`` answers."""
        self.kind = kind
        if self.answers == "auto":  # see capabilities.ANSWER_MODES
            self.structured = (self.caps.structured_answers and not self.caps.logprobs) or \
                kind in ("vllm", "sglang")

    # --- what is sent ---------------------------------------------------------------------

    def _budget(self, max_tokens: int) -> dict[str, int]:
        budget = max_tokens + (self.reasoning_budget if self.caps.reasoning else 0)
        name = "max_completion_tokens" if self.caps.max_completion_tokens else "max_tokens"
        return {name: budget}

    def _sends_effort(self) -> bool:
        refused = not self.caps.reasoning_effort and any(
            s.startswith("reasoning_effort: ") for s in self.match.sources)
        return bool(self.reasoning_effort) and not refused and "reasoning_effort" not in \
            self.dropped

    def score_params(self) -> dict[str, Any]:
        """One greedy token with its alternatives' log-probabilities."""
        params: dict[str, Any] = {**self._budget(1), "logprobs": True,
                                  "top_logprobs": self.top_logprobs}
        if self.caps.temperature:
            params["temperature"] = 0
        return params

    def sampling(self) -> dict[str, Any]:
        """The neutral sampling settings sent (OpenAI's, then the server's extras)."""
        if not self.caps.temperature:
            return {}
        values = {**NEUTRAL, **EXTRAS.get(self.kind, {})}
        return {k: v for k, v in values.items() if k not in self.dropped}

    def generate_params(self, *, temperature: float, max_tokens: int, seed: int, n: int,
                        options: tuple[str, ...]) -> dict[str, Any]:
        """The settings of one sampling request for ``n`` draws."""
        params: dict[str, Any] = {**self._budget(max_tokens)}
        if "seed" not in self.dropped:
            params["seed"] = seed
        if self.caps.temperature:
            params["temperature"] = temperature
        elif temperature != 1.0:
            self._say("default-temperature", f"{self.model} takes no temperature: it samples "
                      f"at its default (1), not at {temperature:g}")
        sampling = self.sampling()
        params.update({k: v for k, v in sampling.items() if k in NEUTRAL})
        extra = {k: v for k, v in sampling.items() if k not in NEUTRAL}
        if extra:
            params["extra_body"] = extra
        if self._sends_effort():
            params["reasoning_effort"] = self.reasoning_effort
        elif self.reasoning_effort:
            self._say("effort", f"{self.model} takes no reasoning_effort; not sent")
        if n > 1:
            params["n"] = n
        if self.structured and options:
            params["response_format"] = answer_format(options)
        return params

    def identity(self) -> dict[str, Any]:
        """What these settings add to the cache key (empty where nothing changed).

        The sampling settings (unless the host is OpenAI's, whose defaults they are),
        structured answers, and the reasoning effort when one was chosen.
        """
        out: dict[str, Any] = {}
        sampling = self.sampling()
        if sampling and self.kind != "openai":
            out["sampling"] = {_CANONICAL.get(k, k): "off" if k == "top_k" else v
                               for k, v in sorted(sampling.items())}
        if self.structured:
            out["answers"] = "json-schema"
        if self._sends_effort():
            out["reasoning_effort"] = self.reasoning_effort
        return out

    # --- learning from refusals -------------------------------------------------------------

    def _say(self, key: str, line: str) -> None:
        if key not in self._said:
            self._said.add(key)
            self.learnt.append(line)
            self.notify(line)

    def adapt(self, message: str, param: str | None, sent: dict[str, Any], *,
              scoring: bool) -> bool:
        """Learn from an HTTP 400 (or 422) to request ``sent``; True: send it again.

        Raises:
            LogprobsUnavailableError: Scoring a model that the refusal shows to be a
                reasoning model (its first token is hidden reasoning, not the answer).
        """
        name = _named(param, message, sent)
        if name is None:
            return False
        if name in ("logprobs", "top_logprobs"):
            limit = _LIMIT.search(message)
            asked = int(sent.get("top_logprobs") or 0)
            if limit is None or not 0 < int(limit.group(1)) < asked:
                return False  # a plain refusal: the caller falls back to sampling
            self.top_logprobs = min(self.top_logprobs, int(limit.group(1)))
            self._say("top_logprobs", f"the server allows at most {self.top_logprobs} "
                      f"alternative log-probabilities (asked for {asked}); scoring with "
                      f"{self.top_logprobs}: an option outside them gets no probability")
            return True
        if name == "max_tokens" and not _UNSUPPORTED.search(message):
            return False  # a budget too large for the context, say: not a refusal of the name
        if name == "max_tokens":
            # Only OpenAI's reasoning models refuse max_tokens, and they refuse a temperature,
            # top_p and penalties too: one refusal instead of four.
            self.caps = replace(self.caps, max_completion_tokens=True, reasoning=True,
                                logprobs=False, temperature=False)
            self._say("max_tokens", f"{self.model} refuses max_tokens, as reasoning models do: "
                      "sending max_completion_tokens (with a reasoning budget of "
                      f"{self.reasoning_budget} tokens on top) and no temperature, top_p or "
                      "penalties; it cannot be scored")
            if scoring:
                raise self.unscorable("it refuses max_tokens, as reasoning models do")
            return True
        if name == "max_completion_tokens":
            self.caps = replace(self.caps, max_completion_tokens=False)
            self._say(name, "the server refuses max_completion_tokens: sending max_tokens")
            return True
        if name == "temperature":
            self.caps = replace(self.caps, temperature=False)
            self._say(name, f"{self.model} refuses a temperature: it samples at its default "
                      "(1), and top_p and penalties are no longer sent either")
            return True
        if name == "response_format":
            self.structured = False
            self._say(name, "the server refuses structured answers (response_format): "
                      "answers are asked for as text from now on, read by the strict parser")
            return True
        if name == "n":
            self.n_ok = False
            self._say(name, "the server refuses n > 1: one request per draw from now on")
            return True
        if name in _DROPPABLE:
            self.dropped.add(name)
            self._say(name, f"the server refuses {name}: not sent from now on (its own "
                      "default applies)")
            return True
        return False

    def learn_reasoning(self) -> None:
        """The replies show hidden reasoning: give the completion budget the reasoning budget."""
        if not self.caps.reasoning:
            self.caps = replace(self.caps, reasoning=True)
            self._say("reasoning", f"{self.model} reasons before it answers (its replies say "
                      f"so): its completion budget gets {self.reasoning_budget} tokens on top "
                      "of max_tokens")

    def unscorable(self, why: str) -> LogprobsUnavailableError:
        """The error that sends a study to the sample method, saying why."""
        self.caps = replace(self.caps, logprobs=False)
        evidence = f"{self.model} cannot be scored: {why}"
        return LogprobsUnavailableError(f"{evidence}; use --method sample", evidence=evidence)

    def describe(self) -> dict[str, Any]:
        """What is sent now and what was learnt, for the backend's diagnostics."""
        return {"capabilities": {**vars(self.caps), "from": list(self.match.sources)},
                "server_kind": self.kind, "budget": next(iter(self._budget(0))),
                "reasoning_budget": self.reasoning_budget if self.caps.reasoning else 0,
                "reasoning_effort": self.reasoning_effort if self._sends_effort() else None,
                "sampling": {"temperature": "sent" if self.caps.temperature else "default",
                             **self.sampling()},
                "answers": "json-schema" if self.structured else "text",
                "top_logprobs": self.top_logprobs, "n": self.n_ok, "learnt": list(self.learnt)}


def request_body(model: str, messages: list[dict[str, str]],
                 params: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a chat-completion request (what the live backend posts)."""
    return {"model": model, "messages": messages, **merged(params)}


def merged(params: dict[str, Any]) -> dict[str, Any]:
    """Request arguments as JSON fields: ``extra_body`` merged in, as the SDK merges it.

    A batch line carries the same fields.
    """
    body = {k: v for k, v in params.items() if k != "extra_body"}
    body.update(params.get("extra_body") or {})
    return body
