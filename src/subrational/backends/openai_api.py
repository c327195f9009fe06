r"""Any OpenAI-compatible chat endpoint (OpenAI, vLLM, SGLang, Ollama, llama.cpp server, ...).

Design:

* **The request loop** (:mod:`.openai_loop`): one long-lived event loop and client, a pipelined
  pool of ``max_concurrency`` requests in flight, counted retries of transient faults,
  adaptations to refusals, rate limits (``rpm``/``tpm``, else the ``x-ratelimit-*`` headers);
  :meth:`OpenAIBackend.each` yields each request's outcome as it ends, a request that still
  fails after its retries being one failed call, not the end of the run.
* **Scoring is first-token.** One completion token with ``top_logprobs``; each option collects
  the probability of the returned tokens that unambiguously start it. Options that no returned
  token starts get ``-inf``.
* **No log-probabilities is decided on evidence.** A reply without them is retried like a
  transient fault. Only when no reply so far carried any and either
  ``NO_LOGPROBS_EVIDENCE`` different prompts lacked them twice or one prompt lacked them that
  many times (or the server answers 400 naming logprobs) does the backend raise
  :class:`~subrational.errors.LogprobsUnavailableError`, with the counts, so the caller can
  fall back to sampling.
* **Honest request settings** (:mod:`.openai_settings`): every sampling setting is sent
  explicitly; reasoning models get ``max_completion_tokens`` with a reasoning budget on top, no
  temperature and no scoring (:mod:`.capabilities`); a 400 naming a setting is adapted to once
  (the request is sent again, the change kept and said once on stderr), and is not a retry.
  :meth:`OpenAIBackend.diagnostics` says what was sent and learnt, and who answered.
* **The served model is checked** against ``GET /models`` when the fingerprint is first
  computed, and what the listing says about the weights enters the cache key (:mod:`.served`).
* **Structured answers** (``answers``): the sample method asks for JSON ``{"reasoning",
  "answer"}`` with the options as an enum where the model supports it, and hands the parser
  ``<reasoning>\nAnswer: <answer>``; a server that refuses the schema gets text from then on.
* **n draws per request** (``draws_per_request`` > 1, off by default): draws of one cell share
  a request with ``n``, seeded by the first draw's seed; the cache still keeps one entry per
  draw. A server honours one seed per request, not per draw, so the draws are reproducible
  only as a group: a re-run that finds part of a cell cached groups the rest differently. The
  default of one request per draw keeps every draw reproducible on its own (where the server
  honours seeds at all).
* **Usage** (:meth:`~.base.Backend.last_usage`, :meth:`~.base.Backend.usage_totals`): read from
  each reply's ``usage``; see :mod:`.base` for the contract.
* **URLs** are checked when the backend is made (scheme, host, port), before any call.
* **Secrets.** The key is read from the environment when a client is made and is never kept on
  the backend, nor put in the fingerprint, ``repr``, errors or logs. The key comes from the
  environment variable only; ``user:password@`` in the base URL is sent to the server as HTTP
  Basic auth (for a proxy that wants it; it then replaces the bearer key) and is stripped from
  everything stored or shown (:func:`redact_url`).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, LogprobsUnavailableError, MissingCredentialsError
from .base import (
    Backend,
    Capabilities,
    GenerateRequest,
    OptionScores,
    Outcome,
    ScoreRequest,
    attach_completed,
    completed_results,
    zero_usage,
)
from .capabilities import ANSWER_MODES, DEFAULT_REASONING_BUDGET, REASONING_EFFORTS, lookup
from .endpoints import check_base_url, redact_url
from .openai_direct import post_json
from .openai_errors import scrub, translate
from .openai_loop import MAX_BACKOFF, RequestLoop, Slot, openai_sdk, run_sync
from .openai_settings import RequestSettings, request_body
from .pool import RateLimits
from .replies import (
    BadReply,
    answer_cut_off,
    first_choice,
    first_token_candidates,
    hidden_reasoning,
    option_logprobs,
    reasons_first,
    reply_json,
    reply_texts,
    reply_usage,
)
from .served import ServedModel, from_listing, kind_of_host, read_record, write_record
from .tokens import CHARS_PER_TOKEN

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["OpenAIBackend", "DEFAULT_BASE_URL", "check_base_url", "option_logprobs",
           "redact_url"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Local servers (vLLM, Ollama, llama.cpp) want some bearer token but accept any.
_PLACEHOLDER_KEY = "no-key-required"
_MAX_TOP_LOGPROBS = 20  # the OpenAI API's upper bound
NO_LOGPROBS_EVIDENCE = 3
"""Different prompts that lacked log-probabilities in two attempts each (or one prompt in this
many attempts), with no reply carrying any, before the server is judged to have none (design
choice: a reply that lacks them once, or several prompts' first replies, must not switch a study
to sampling)."""
_MAX_REASONING_BUDGET = 131_072
_MAX_DRAWS_PER_REQUEST = 128  # OpenAI's upper bound of n
_LISTING_TIMEOUT = 10.0  # seconds GET /models may take before the check is skipped


def _stderr_line(text: str) -> None:
    print(f"subrational: {text}", file=sys.stderr, flush=True)


class OpenAIBackend(Backend):
    """Chat models behind an OpenAI-compatible HTTP API, through the official ``openai`` SDK.

    Args:
        model: Model id as the server knows it, e.g. ``gpt-4o-mini`` or ``qwen2.5:7b``.
        base_url: API root such as ``http://localhost:8000/v1``; defaults to the environment
            variable ``OPENAI_BASE_URL``, else OpenAI itself.
        api_key_env: Name of the environment variable that holds the key.
        offline: The run replays from the cache: do not require a key up front, do not ask
            the server what it serves (the record of the last time is used).
        max_concurrency: Requests in flight at once.
        timeout: Seconds per HTTP request.
        max_retries: Retries per request (exponential back-off with jitter) on 408, 409, 429,
            5xx, timeouts, dropped connections and replies that are not answers.
        retry_backoff: Seconds before the first retry; doubled each time, at most 8.
        top_logprobs: Alternatives asked for when scoring (0 to 20).
        answers: Sampled answers as ``structured`` JSON, free ``text``, or ``auto``
            (structured for a reasoning model the table says takes a JSON schema, and on vLLM
            and SGLang: :data:`.capabilities.ANSWER_MODES`).
        reasoning_effort: ``reasoning_effort`` sent to models that take it (default: none
            sent, the model's own default applies).
        reasoning_budget: Completion tokens a reasoning model gets on top of the answer's
            ``max_tokens`` for its hidden reasoning (default 8192; unused tokens are not
            billed).
        draws_per_request: Draws of one cell asked for in one request with ``n`` (1: one
            request per draw, each with its own seed; see the module docstring).
        model_capabilities: The user's capability table, ``{pattern: {field: bool}}``
            (:mod:`.capabilities`), consulted before the shipped one.
        notify: Where one-line notices go (the first timeout, each setting adapted to);
            stderr by default.
        rpm: Requests per minute at most (None: the server's ``x-ratelimit-*`` headers).
        tpm: Tokens per minute at most, estimated per request as its prompt's characters /
            4 plus its output budget (None: the server's headers).

    Raises:
        MissingCredentialsError: No key for the OpenAI API itself.
        ConfigError: A numeric option out of range, an unknown choice, a bad capability
            table, or a base URL that cannot work.
    """

    name = "openai"
    billed = True

    def __init__(self, model: str, *, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", max_concurrency: int = 8,
                 timeout: float = 60.0, max_retries: int = 5, retry_backoff: float = 0.5,
                 top_logprobs: int = 20, offline: bool = False, answers: str = "auto",
                 reasoning_effort: str | None = None,
                 reasoning_budget: int = DEFAULT_REASONING_BUDGET, draws_per_request: int = 1,
                 model_capabilities: Mapping[str, Mapping[str, bool]] | None = None,
                 notify: Callable[[str], None] | None = None, rpm: float | None = None,
                 tpm: float | None = None) -> None:
        super().__init__(model)
        openai_sdk()
        check_rate_limits(rpm, tpm)
        _check_range("max_concurrency", max_concurrency, 1, None)
        _check_range("timeout", timeout, 1e-3, None)
        _check_range("max_retries", max_retries, 0, None)
        _check_range("retry_backoff", retry_backoff, 0, MAX_BACKOFF)
        _check_range("top_logprobs", top_logprobs, 0, _MAX_TOP_LOGPROBS)
        _check_range("reasoning_budget", reasoning_budget, 0, _MAX_REASONING_BUDGET)
        _check_range("draws_per_request", draws_per_request, 1, _MAX_DRAWS_PER_REQUEST)
        _check_choice("answers", answers, ANSWER_MODES)
        if reasoning_effort is not None:
            _check_choice("reasoning_effort", reasoning_effort, REASONING_EFFORTS)
        try:
            match = lookup(model, model_capabilities)
        except ValueError as exc:
            raise ConfigError(f"model_capabilities: {exc}") from None
        self.custom_url = bool(base_url or os.environ.get("OPENAI_BASE_URL"))
        self.base_url = check_base_url(base_url or os.environ.get("OPENAI_BASE_URL")
                                       or DEFAULT_BASE_URL)
        self.api_key_env = api_key_env
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.top_logprobs = top_logprobs
        self.draws_per_request = draws_per_request
        self.offline = offline
        self.notify = notify or _stderr_line
        self.settings = RequestSettings(model, match, answers=answers,
                                        reasoning_effort=reasoning_effort,
                                        reasoning_budget=reasoning_budget,
                                        top_logprobs=top_logprobs, notify=self.notify)
        self.settings.set_kind(kind_of_host(self.base_url) or "other")
        self._served: ServedModel | None = None
        self._fingerprint: dict[str, Any] | None = None
        self._loop = RequestLoop(base_url=self.base_url, api_key=self._api_key, timeout=timeout,
                                 max_retries=max_retries, retry_backoff=retry_backoff,
                                 max_concurrency=max_concurrency, notify=self.notify,
                                 adapt=self._adapt, fail=self._fail,
                                 limits=RateLimits(rpm, tpm), estimate=self._estimate)
        # Evidence about log-probabilities: replies with and without them, prompts without.
        self._with_logprobs = 0
        self._without_logprobs = 0
        self._lacking: Counter[ScoreRequest] = Counter()  # replies without, by prompt
        self._no_logprobs: LogprobsUnavailableError | None = None
        # Usage and what the replies said about who answered.
        self._last_usage: list[dict[str, int]] = []
        self._totals: Counter[str] = Counter(zero_usage())
        self._answered_by: Counter[str] = Counter()
        self._system_fingerprints: Counter[str] = Counter()
        if not offline:  # a replay from the cache needs no key
            self._api_key()  # fail now, not after the first prompt is rendered

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={redact_url(self.base_url)!r})"

    @property
    def capabilities(self) -> Capabilities:
        """Log-probs (unless the model cannot be scored), ``max_concurrency``, cacheable."""
        return Capabilities(logprobs=self.settings.caps.logprobs,
                            max_concurrency=self.max_concurrency, cacheable=True)

    def fingerprint(self) -> dict[str, Any]:
        """Backend, model, the API root without credentials, and what changes the answers.

        Asks the server what it serves the first time (:mod:`.served`: a model it does not
        list is an error here, before any call) and adds, only where they apply, the served
        identity, the sampling settings sent, structured answers and the reasoning effort
        (:meth:`.openai_settings.RequestSettings.identity`). Computed once: it is the cache
        key's model identity for the whole run.

        Raises:
            UsageError: The server lists its models and this one is not among them.
        """
        if self._fingerprint is None:
            served = self._identify()
            fingerprint: dict[str, Any] = {"backend": self.name, "model": self.model,
                                           "base_url": redact_url(self.base_url)}
            if served.identity:
                fingerprint["served"] = dict(served.identity)
            fingerprint.update(self.settings.identity())
            if self.draws_per_request > 1:
                fingerprint["draws_per_request"] = self.draws_per_request
            self._fingerprint = fingerprint
        return dict(self._fingerprint)

    def retry_counts(self) -> dict[str, int]:
        """Retries so far by kind: ``http-429``, ``http-503``, ``timeout``, ``invalid-json``..."""
        return dict(sorted(self._loop.retries.items()))

    def output_budget(self, max_tokens: int) -> int:
        """``max_tokens``, plus the reasoning budget for a model known to reason (as sent)."""
        return max_tokens + (self.settings.reasoning_budget if self.settings.caps.reasoning
                             else 0)

    def last_usage(self) -> list[dict[str, int]]:
        """Tokens of each request of the last call, from the replies' ``usage`` (see base)."""
        return [dict(u) for u in self._last_usage]

    def usage_totals(self) -> dict[str, int]:
        """Tokens over the backend's life and ``calls``, the requests sent (see base)."""
        return {**zero_usage(), **dict(self._totals), "calls": self._totals["calls"]}

    def diagnostics(self) -> dict[str, Any]:
        """The server, what is sent and what was learnt, who answered, the usage, rate limits."""
        served = self._served or ServedModel(self.settings.kind, {}, "not asked")
        found = {"server": {"kind": self.settings.kind, "identity": dict(served.identity),
                            "source": served.source},
                 "requests": self.settings.describe(),
                 "answered_by": dict(self._answered_by),
                 "system_fingerprints": dict(self._system_fingerprints),
                 "usage": self.usage_totals()}
        limits = self._loop.limits.describe()
        return {**found, "rate_limits": limits} if limits else found

    def close(self) -> None:
        """Close the HTTP client and stop the backend's event loop."""
        self._loop.close()

    def each(self, op: str, requests: Sequence[Any]) -> Iterator[Outcome | None]:
        """Outcomes of ``score`` or ``generate`` as each request ends (see :mod:`.base`).

        Pipelined on the long-lived loop; a failed request is an outcome with its error.
        """
        if op == "score":
            if requests and not self.settings.caps.logprobs:
                raise self._unscorable()
            slots = [Slot() for _ in requests]
            for item in self._loop.stream(self._score_one, requests, slots):
                if item is None:
                    yield None
                    continue
                i, got = item
                self._count([slots[i]])
                yield (Outcome(i, error=got, usage=slots[i].usage)
                       if isinstance(got, BaseException) else
                       Outcome(i, got, usage=slots[i].usage))
            return
        groups = self._groups(requests)
        jobs = [tuple(requests[i] for i in group) for group in groups]
        slots = [Slot() for _ in jobs]
        for item in self._loop.stream(self._generate_job, jobs, slots):
            if item is None:
                yield None
                continue
            j, got = item
            self._count([slots[j]])
            for k, i in enumerate(groups[j]):
                usage = slots[j].usage if k == 0 else zero_usage()
                if isinstance(got, BaseException):
                    yield Outcome(i, error=got, usage=usage)
                else:
                    yield Outcome(i, got[k], usage=usage)

    def _estimate(self, job: Any) -> float:
        """Tokens one attempt of ``job`` may be billed: prompt characters / 4 plus the budget."""
        first = job[0] if isinstance(job, tuple) else job
        prompt = sum(len(m.content) for m in first.prompt.messages) / CHARS_PER_TOKEN
        if isinstance(first, ScoreRequest):
            return prompt + 1
        return prompt + len(job if isinstance(job, tuple) else (job,)) * self.output_budget(
            first.max_tokens)

    def score(self, requests: Sequence[ScoreRequest]) -> list[OptionScores]:
        """First-token option probabilities from ``top_logprobs``, in request order.

        Raises:
            LogprobsUnavailableError: The model cannot be scored (the capability table says
                so, or it turned out to be a reasoning model), or the server consistently
                returns no log-probabilities.
            BackendError: The server failed after the retries.
        """
        self._last_usage = [zero_usage() for _ in requests]
        if requests and not self.settings.caps.logprobs:
            raise self._unscorable()
        slots = [Slot() for _ in requests]
        try:
            return self._loop.run(self._score_one, requests, slots)
        finally:
            self._last_usage = [s.usage for s in slots]
            self._count(slots)

    def generate(self, requests: Sequence[GenerateRequest]) -> list[str]:
        """One sampled completion per request, in request order.

        Each request's ``seed`` is passed on (some servers ignore it); with
        ``draws_per_request`` > 1, requests for the same prompt share one request with ``n``.
        """
        groups = self._groups(requests)
        jobs = [tuple(requests[i] for i in group) for group in groups]
        slots = [Slot() for _ in jobs]
        try:
            results = self._loop.run(self._generate_job, jobs, slots)
        except BaseException as exc:
            # The jobs that finished, by request index instead of job index.
            attach_completed(exc, {i: text for j, got in completed_results(exc).items()
                                   for i, text in zip(groups[j], got, strict=False)})  # type: ignore
            raise
        finally:
            self._last_usage = [zero_usage() for _ in requests]
            for group, slot in zip(groups, slots, strict=True):
                self._last_usage[group[0]] = slot.usage
            self._count(slots)
        texts: list[str] = [""] * len(requests)
        for group, got in zip(groups, results, strict=True):
            for i, text in zip(group, got, strict=True):
                texts[i] = text
        return texts

    def _groups(self, requests: Sequence[GenerateRequest]) -> list[list[int]]:
        """Indices of the requests sent together: alike but for the seed, at most ``n``."""
        if self.draws_per_request == 1 or not self.settings.n_ok:
            return [[i] for i in range(len(requests))]
        alike: dict[tuple, list[list[int]]] = {}
        order: list[list[int]] = []
        for i, r in enumerate(requests):
            chunks = alike.setdefault((r.prompt, r.temperature, r.max_tokens, r.options), [])
            if not chunks or len(chunks[-1]) >= self.draws_per_request:
                chunks.append([])
                order.append(chunks[-1])
            chunks[-1].append(i)
        return order

    def _api_key(self) -> str:
        key = os.environ.get(self.api_key_env)
        if key:
            return key
        if self.custom_url:
            return _PLACEHOLDER_KEY
        raise MissingCredentialsError(
            f"set {self.api_key_env} (or pass --base-url for a local server that needs no key)"
        )

    def _identify(self) -> ServedModel:
        """What the server serves: asked once online, else the record (:mod:`.served`)."""
        if self._served is None:
            served = None if self.offline else self._ask_listing()
            if served is not None and served.source == "GET /models":
                write_record(self.base_url, self.model, served)
            else:
                served = read_record(self.base_url, self.model) or served or ServedModel(
                    self.settings.kind, {}, "offline" if self.offline else "not answered")
            self.settings.set_kind(served.kind)
            self._served = served
        return self._served

    def _ask_listing(self) -> ServedModel | None:
        """``GET /models`` read by :func:`.served.from_listing`; None when it cannot be had."""
        openai = openai_sdk()

        async def listing() -> Any:
            async with openai.AsyncOpenAI(api_key=self._api_key(), base_url=self.base_url,
                                          timeout=min(self.timeout, _LISTING_TIMEOUT),
                                          max_retries=1) as client:
                raw = await client.models.with_raw_response.list()
                return raw.http_response

        try:
            response = run_sync(listing)
            body = reply_json(response.content, response.headers.get("content-type", ""))
        except openai.APIStatusError as exc:
            return ServedModel(self.settings.kind, {},
                               f"no listing (HTTP {exc.status_code})")
        except (openai.OpenAIError, BadReply):
            return None
        return from_listing(self.base_url, self.model, body)

    def _count(self, slots: Sequence[Slot]) -> None:
        for slot in slots:
            self._totals.update(slot.usage)
            self._totals["calls"] += slot.sent

    def _fail(self, exc: Exception, attempts: int) -> BaseException:
        """The one-line error for ``exc`` after ``attempts``; a verdict on log-probs is kept."""
        error = translate(exc, self, attempts=attempts, sdk=openai_sdk())
        if isinstance(error, LogprobsUnavailableError):
            self._no_logprobs = error  # the other prompts fail fast
        return error

    def _adapt(self, exc: Exception, request: Any) -> bool:
        """Whether a 400 (or 422) names a setting the request can do without (then: adapted)."""
        sent = getattr(exc, "sent_params", None)
        if getattr(exc, "status_code", None) not in (400, 422) or sent is None:
            return False
        body = getattr(exc, "body", None)
        param = body.get("param") if isinstance(body, dict) else None
        text = body.get("message") if isinstance(body, dict) else None
        message = scrub(" ".join(str(text or body or exc).split()), self.api_key_env)
        scoring = isinstance(request, ScoreRequest)
        try:
            return self.settings.adapt(message, param if isinstance(param, str) else None,
                                       sent, scoring=scoring)
        except LogprobsUnavailableError as unscorable:
            self._no_logprobs = unscorable
            raise

    async def _post(self, client: AsyncOpenAI, request: Any, slot: Slot,
                    **params: Any) -> dict[str, Any]:
        """One chat-completion call; the reply's JSON object, read from the raw body.

        Counts the call (once per job), the reply's tokens, and who the reply says answered.
        A refusal carries ``params`` as ``sent_params``, so that it can be adapted to.
        """
        openai = openai_sdk()
        slot.sent = True
        body = request_body(self.model, request.prompt.as_dicts(), params)
        try:
            reply = await post_json(client, "chat/completions", body)
        except openai.APIStatusError as exc:
            exc.sent_params = params  # type: ignore[attr-defined]
            self._loop.limits.observe(exc.response.headers)  # a 429 says when to come back
            raise
        self._loop.limits.observe(reply.headers)
        data = reply_json(reply.content, reply.headers.get("content-type", ""))
        for key, tokens in reply_usage(data).items():
            slot.usage[key] += tokens
        for counter, field_name in ((self._answered_by, "model"),
                                    (self._system_fingerprints, "system_fingerprint")):
            said = data.get(field_name)
            if isinstance(said, str) and said:
                counter[said] += 1
        return data

    async def _score_one(self, client: AsyncOpenAI, request: ScoreRequest,
                         slot: Slot) -> OptionScores:
        if self._no_logprobs is not None:
            raise self._no_logprobs
        if not self.settings.caps.logprobs:  # learnt from another request of this batch
            raise self._unscorable()
        data = await self._post(client, request, slot, **self.settings.score_params())
        choice = first_choice(data)
        if reasons_first(choice):
            self._no_logprobs = self.settings.unscorable(
                "its first token is reasoning, not the answer (the reply starts a reasoning "
                "part)")
            raise self._no_logprobs
        candidates = first_token_candidates(choice)
        if candidates is None:
            self._without_logprobs += 1
            self._lacking[request] += 1
            confirmed = sum(n >= 2 for n in self._lacking.values())
            if self._with_logprobs == 0 and (confirmed >= NO_LOGPROBS_EVIDENCE or
                                             self._lacking[request] >= NO_LOGPROBS_EVIDENCE):
                raise self.logprobs_unavailable()
            raise BadReply("no-logprobs", "a reply without log-probabilities")
        self._with_logprobs += 1
        detail: dict[str, Any] = {"scored": "first-token"}
        if self.settings.top_logprobs < self.top_logprobs:
            detail["top_logprobs"] = self.settings.top_logprobs  # the server's limit
        return OptionScores(option_logprobs(candidates, request.options), detail=detail)

    async def _generate_job(self, client: AsyncOpenAI, job: tuple[GenerateRequest, ...],
                            slot: Slot) -> list[str]:
        """The texts of a job's requests: one request with ``n``, or one per draw.

        A server that returns fewer choices than ``n`` is asked for the rest with the next
        draw's seed (and is then asked one draw at a time). A reply that shows hidden reasoning
        from a model not known to reason teaches the settings so (said once); if that
        reasoning left no room for the answer, the request is sent again with the budget.
        """
        texts: list[str] = []
        while len(texts) < len(job):
            n = len(job) - len(texts) if self.settings.n_ok else 1
            request = job[len(texts)]
            params = self.settings.generate_params(
                temperature=request.temperature, max_tokens=request.max_tokens,
                seed=request.seed, n=n, options=request.options)
            data = await self._post(client, request, slot, **params)
            if not self.settings.caps.reasoning and hidden_reasoning(data):
                self.settings.learn_reasoning()
                if answer_cut_off(data):
                    continue  # asked again at once, with the reasoning budget
            got = reply_texts(data, n, structured="response_format" in params,
                              reasoning=self.settings.caps.reasoning)
            if n > 1 and len(got) < n:
                self.settings.n_ok = False
                self.settings.learnt.append(f"the server answered n={n} with {len(got)} "
                                            "choice(s): one request per draw from now on")
            texts.extend(got)
        return texts

    def _unscorable(self) -> LogprobsUnavailableError:
        """Scoring refused before any call: the capabilities say the model cannot be scored."""
        if self._no_logprobs is None:
            source = self.settings.match.source_of("logprobs")
            learnt = "it turned out to be a reasoning model" if "shipped" not in source \
                and "config" not in source else f"the capability table says so ({source})"
            self._no_logprobs = self.settings.unscorable(learnt)
        return self._no_logprobs

    @property
    def logprob_replies(self) -> tuple[int, int]:
        """Scoring replies so far with and without log-probabilities."""
        return self._with_logprobs, self._without_logprobs

    def logprobs_unavailable(self) -> LogprobsUnavailableError:
        """The verdict 'this server gives no log-probabilities', with the evidence; kept."""
        if self._no_logprobs is None:
            total = self._with_logprobs + self._without_logprobs
            evidence = (f"{self._with_logprobs} of {total} replies from "
                        f"{redact_url(self.base_url)} carried log-probabilities, over "
                        f"{len(self._lacking)} different prompt"
                        f"{'s' if len(self._lacking) > 1 else ''}")
            self._no_logprobs = LogprobsUnavailableError(
                f"{evidence}; the server gives none for {self.model!r}: use --method sample",
                evidence=evidence)
        return self._no_logprobs



def check_rate_limits(rpm: float | None, tpm: float | None) -> None:
    """Refuse a requests- or tokens-per-minute limit that is not a positive number."""
    for name, value in (("rpm", rpm), ("tpm", tpm)):
        if value is not None:
            _check_range(name, value, 1e-3, None)


def _check_choice(name: str, value: object, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}")


def _check_range(name: str, value: float, low: float, high: float | None) -> None:
    if value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ConfigError(f"{name}={value!r} is out of range; it must be {bound}")
