"""``subrational plan``: the calls a run would make and what they would cost, calling no model.

Design:

* **The run's own requests.** The plan runs the run's elicitation (:func:`.pipeline._elicit`,
  so the same requests, in the same order, under the same cache keys) against a cached backend
  that never calls the model (:class:`_Planner`): a request the cache answers is a hit as in
  the run; a miss is noted and answered with a placeholder that nothing keeps (a uniform score,
  the text ``Answer: <first option>``). A model that cannot be scored (the capability table, or
  Claude) falls back to the sample method as the run does. The plan's count is therefore the
  run's (tested against the fake servers). The backend is made as for the run, so its checks
  run too (the key, the model the server lists); no chat request is sent.
* **Sequential studies under the sample method** (several decisions per episode): how many
  calls an episode makes depends on the answers, which the plan does not have. A placeholder
  would send the episode down a made-up path, so a miss ends the episode instead: the hits on
  the cached part of every episode are exact, and the calls still to make lie between the
  episodes not finished in the cache (one call each, at least) and a maximum: each of them
  reaching every state of the grid and asking three times at each (an answer that does not
  parse is asked again, up to three times a step), no more than that bound for all episodes
  less the hits. With answers that parse, a third of the maximum is the most.
* **Tokens.** Input: :func:`.backends.tokens.count_prompt_tokens` (the model's BPE where at
  hand, else characters / 4). Output: one token per scoring call; a sampled answer from the
  shortest parseable one (``Answer: <option>``) to its budget (``--max-tokens``, plus the
  reasoning budget for a reasoning model: :meth:`.backends.base.Backend.output_budget`).
* **The cost is a range** because an answer's length is known only once it is written: the low
  end prices the shortest answers, the high end every answer using its whole budget. For a
  reasoning model the high end is dominated by hidden reasoning, up to the reasoning budget per
  call, which is billed as output; how much of it a model uses depends on the question and the
  effort. Prompt caching is not counted (the studies' prompts are shorter than the providers'
  caching minimum: 1,024 tokens at OpenAI and Anthropic).
* **Controls** (``--controls``): each study gets a second row, ``<id> controls``, with the
  calls its control conditions and recall probes add (:mod:`subrational.controls`), planned
  by the same elicitation against the same planner; the total includes them.
* **Design factors** (``--factor``): likewise a row ``<id> factors`` with the calls the
  factor cells add (:mod:`subrational.factors`); the cell laid out as the run's own is the
  study's own row and is not counted again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .accounting import check_max_cost, price_for
from .backends.base import Backend, GenerateRequest, OptionScores, ScoreRequest
from .backends.prices import PriceMatch, usage_cost
from .backends.tokens import count_prompt_tokens, count_text_tokens, encoding_name
from .cache import Cache, CachedBackend
from .config import RunConfig
from .controls import check_controls, elicit_controls
from .elicitation import plan_size
from .elicitation.elicit import MAX_ATTEMPTS
from .errors import LogprobsUnavailableError
from .experiments import Experiment
from .factors import check_factors, elicit_factors
from .factors.levels import own_ask
from .pipeline import (
    _elicit,
    build_backend,
    check_personas,
    check_plan,
    resolve_experiments,
    select_personas,
)

__all__ = ["StudyPlan", "RunPlan", "make_plan", "format_plan"]


@dataclass(frozen=True)
class StudyPlan:
    """What one study of the run would call and cost.

    Attributes:
        experiment: Versioned id.
        method: The method the run would use (after a fallback to ``sample``).
        cached: Requests the cache answers.
        new: (fewest, most) model calls still to make; equal unless ``exact`` is false.
        exact: False for a sequential study under the sample method (module docstring).
        input_tokens: (low, high) input tokens of the new calls.
        output_tokens: (low, high) output tokens of the new calls (reasoning included).
        cost: (low, high) US dollars of the new calls; None when the price is unknown.
        notes: What the plan learnt (a fallback to the sample method).
    """

    experiment: str
    method: str
    cached: int
    new: tuple[int, int]
    exact: bool
    input_tokens: tuple[int, int]
    output_tokens: tuple[int, int]
    cost: tuple[float, float] | None
    notes: tuple[str, ...] = ()

    @property
    def calls(self) -> tuple[int, int]:
        """(fewest, most) requests the run makes for this study, cache hits included."""
        return self.cached + self.new[0], self.cached + self.new[1]


@dataclass(frozen=True)
class RunPlan:
    """The plan of a whole run.

    Attributes:
        model: ``backend:model`` as the run would describe it.
        price: The price used, or None when the model has none.
        tokens: How input tokens were counted (``o200k_base``, ``chars/4``).
        studies: One plan per study, in run order.
        notes: Why numbers are ranges, and what the plan cannot know.
    """

    model: str
    price: PriceMatch | None
    tokens: str
    studies: list[StudyPlan]
    notes: list[str] = field(default_factory=list)

    def total(self, name: str) -> tuple[int, int]:
        """The sum over studies of a (low, high) field: ``new``, ``calls``, ``input_tokens``."""
        pairs = [getattr(s, name) for s in self.studies]
        return sum(p[0] for p in pairs), sum(p[1] for p in pairs)

    def total_cost(self) -> tuple[float, float] | None:
        """(low, high) US dollars of the whole run's new calls; None when unknown."""
        if self.price is None:
            return None
        costs = [s.cost or (0.0, 0.0) for s in self.studies]
        return sum(c[0] for c in costs), sum(c[1] for c in costs)


class _Planner(CachedBackend):
    """A cached backend that never calls the model: it notes each miss (module docstring)."""

    def __init__(self, backend: Backend, cache: Cache | None, *, sequential: bool) -> None:
        super().__init__(backend, cache)
        self.sequential = sequential
        self.missed: list[ScoreRequest | GenerateRequest] = []
        self.generate_hits = 0

    def _cached(self, op: Any, requests: Sequence[Any], keys: list[str]) -> dict[str, Any]:
        found = super()._cached(op, requests, keys)
        if op.name == "generate":  # the sampled hits, for the bound on sequential episodes
            self.generate_hits += len(found)
        return found

    def _call(self, op: Any, requests: list[Any], keys: list[str]) -> dict[str, Any]:
        if op.name == "score" and not self.backend.capabilities.logprobs:
            why = f"{self.backend.describe()} cannot be scored: its backend says so before any call"
            raise LogprobsUnavailableError(f"{why}: use --method sample", evidence=why)
        self.missed.extend(requests)
        return {key: self._placeholder(r) for key, r in zip(keys, requests, strict=True)}

    def _placeholder(self, request: ScoreRequest | GenerateRequest) -> Any:
        if isinstance(request, ScoreRequest):
            n = len(request.options)
            return OptionScores(tuple([-math.log(n)] * n))
        if self.sequential:
            return None  # ends the episode: its path depends on this answer
        return f"Answer: {request.options[0]}" if request.options else "Answer:"


def _tokens(backend: Backend, request: ScoreRequest | GenerateRequest) -> tuple[int, int, int]:
    """(input, lowest output, highest output) tokens of one request."""
    inp = count_prompt_tokens(request.prompt.messages, backend=backend.name,
                              model=backend.model).tokens
    if isinstance(request, ScoreRequest):
        return inp, 1, 1
    encoding = encoding_name(backend.name, backend.model)
    shortest = min(request.options, key=len) if request.options else ""
    low = count_text_tokens(f"Answer: {shortest}", encoding=encoding).tokens
    return inp, low, max(low, backend.output_budget(request.max_tokens))


def _cost(price: PriceMatch | None, inp: int, out: int) -> float | None:
    if price is None:
        return None
    return usage_cost({"input_tokens": inp, "output_tokens": out}, price.price)


def _plan_study(experiment: Experiment, config: RunConfig, backend: Backend,
                cache: Cache | None, price: PriceMatch | None, *,
                controls_of: StudyPlan | None = None,
                factors_of: StudyPlan | None = None) -> StudyPlan:
    """The study's own calls; with ``controls_of`` or ``factors_of``, what it adds.

    ``controls_of`` and ``factors_of`` are the study's own plan: the row is then the calls its
    controls or its design factors add.
    """
    planner = _Planner(backend, cache, sequential=experiment.sequential)
    personas = select_personas(experiment, config.personas)
    notes: list[str] = []
    asked = [(experiment, personas, config.paraphrases)]
    if controls_of is not None:
        method = controls_of.method
        controls = elicit_controls(experiment, personas, planner, config, method)
        asked = [(c.experiment, c.personas, config.paraphrases)
                 for c in controls.conditions.values()]
        sampled = method == "sample"
    elif factors_of is not None:
        cells = elicit_factors(experiment, personas, planner, config, factors_of.method,
                               own=None).cells
        sampling = {c.ask for c in cells if c.ask.method == "sample"}
        asked = [(experiment, personas, 1)] * len(sampling)
        sampled = bool(sampling)
        # the row's calls by how they are made (reasoning=cot samples a scored run's cells)
        made = {c.ask.method for c in cells if c.ask != own_ask(config, factors_of.method)}
        method = " + ".join(m for m in ("choice-probs", "sample") if m in made) \
            or factors_of.method
    else:
        _, method = _elicit(experiment, config, planner, personas, notes)
        sampled = method == "sample"
    per_call = [_tokens(backend, r) for r in planner.missed]
    sums = [sum(t[i] for t in per_call) for i in range(3)]
    exact = not (sampled and experiment.sequential)
    fewest = most = len(per_call)
    if not exact and per_call:
        # An episode reaches each state of the grid at most once (plan_size's bound), and
        # asks at each up to MAX_ATTEMPTS times (an answer that does not parse is asked again).
        steps = len(experiment.states()) * MAX_ATTEMPTS
        bound = MAX_ATTEMPTS * sum(plan_size(e, who, method="sample", samples=config.samples,
                                             paraphrases=k)
                                   for e, who, k in asked)
        scored = sum(isinstance(r, ScoreRequest) for r in planner.missed)  # exact (factors)
        drawn = fewest - scored
        most = scored + max(drawn, min(drawn * steps, bound - planner.generate_hits))
    scale = most / fewest if fewest else 0.0  # the calls not yet seen ask as the first ones did
    inputs = (sums[0], round(sums[0] * scale))
    outputs = (sums[1], round(sums[2] * scale))
    cost = None if price is None else (_cost(price, inputs[0], outputs[0]) or 0.0,
                                       _cost(price, inputs[1], outputs[1]) or 0.0)
    name = (f"{experiment.id} controls" if controls_of is not None
            else f"{experiment.id} factors" if factors_of is not None else experiment.id)
    return StudyPlan(name, method, planner.stats.hits, (fewest, most), exact, inputs,
                     outputs, cost, tuple(notes))


def _notes(config: RunConfig, backend: Backend, plan: list[StudyPlan],
           price: PriceMatch | None) -> list[str]:
    extra = backend.output_budget(config.max_tokens) - config.max_tokens
    if any("sample" in s.method and s.new[1] for s in plan):
        notes = ["The cost is a range: an answer's length is known only once it is written. The "
                 "low end prices every new sampled answer at its shortest (Answer: <option>), "
                 "the high end at its whole budget (--max-tokens"
                 + (", plus the reasoning budget" if extra else "") + ")."]
    else:
        notes = ["A scoring call (choice-probs) is billed one output token: its cost is known "
                 "up to the input tokens' estimate."]
    if extra:
        notes.append(f"{backend.model} reasons in hidden tokens billed as output: up to "
                     f"{extra:,} a call (the reasoning budget), which makes the high end; how "
                     "many it uses depends on the question and the effort.")
    if any(not s.exact for s in plan):
        notes.append("Sequential studies sampled (<=): episodes end when the persona's answers "
                     "end them, so the calls are a range: at least one per episode not finished "
                     "in the cache; at most every such episode reaching every state of the grid "
                     f"and asking {MAX_ATTEMPTS} times at each (an answer that does not parse is "
                     f"asked again, up to {MAX_ATTEMPTS} times a step): with answers that parse, "
                     f"at most 1/{MAX_ATTEMPTS} of that.")
    if any("choice-probs" in s.method and s.new[1] for s in plan) and backend.billed:
        notes.append("If the server turns out to give no log-probabilities, the run falls back "
                     "to the sample method (plan with --method sample for that cost).")
    if config.draws_per_request > 1:
        notes.append(f"--draws-per-request {config.draws_per_request}: input tokens are counted "
                     "once per draw, an upper bound (draws that share a request share its "
                     "input).")
    if price is None:
        notes.append(f"No price for {backend.model!r}: its cost is unknown; give it one under "
                     "[prices] in a --config file (US dollars per million tokens).")
    elif config.max_cost is not None:
        high = sum((s.cost or (0, 0))[1] for s in plan)
        if high >= config.max_cost:
            notes.append(f"--max-cost {config.max_cost:g}: the run stops once it has spent "
                         "that much (resume it by running it again).")
    return notes


def make_plan(config: RunConfig, *, backend: Backend | None = None) -> RunPlan:
    """The plan of the run ``config`` describes; no model call is made.

    Raises the run's own errors before any work: unknown names, a plan too large, a missing key
    or model file, a model the server does not serve, ``--max-cost`` without a known price.
    """
    experiments = resolve_experiments(config)
    check_personas(experiments, config.personas)
    check_controls(experiments, config)
    check_factors(experiments, config)
    check_plan(experiments, config)
    backend = backend or build_backend(config)
    try:
        price = price_for(backend, config.prices)
        check_max_cost(config.max_cost, backend, price)
        cache = Cache()
        studies = []
        for e in experiments:
            studies.append(_plan_study(e, config, backend, cache, price))
            own = studies[-1]
            if config.controls:  # a row of its own: what --controls adds
                studies.append(_plan_study(e, config, backend, cache, price, controls_of=own))
            if config.factors:  # and what --factor adds
                studies.append(_plan_study(e, config, backend, cache, price, factors_of=own))
        counted = count_text_tokens("x", encoding=encoding_name(backend.name,
                                                                backend.model)).method
        return RunPlan(backend.describe(), price, counted, studies,
                       _notes(config, backend, studies, price))
    finally:
        backend.close()


def _int(n: int) -> str:
    return f"{n:,}"


def _range(pair: Sequence[int], *, at_most: bool = False) -> str:
    low, high = pair
    if low == high:
        return _int(low)
    return f"<={_int(high)}" if at_most else f"{_int(low)}-{_int(high)}"


def _usd(x: float) -> str:
    if x == 0:
        return "0"
    if x < 0.01:
        return f"{x:.4f}"
    return f"{x:,.2f}" if x < 1000 else f"{x:,.0f}"


def _cost_text(cost: tuple[float, float] | None) -> str:
    if cost is None:
        return "unknown"
    return _usd(cost[0]) if cost[0] == cost[1] else f"{_usd(cost[0])}-{_usd(cost[1])}"


def format_plan(plan: RunPlan) -> str:
    """The plan as the CLI prints it: a header, one row per study, the total, the notes."""
    price = plan.price.describe() if plan.price else "unknown (no price for this model)"
    counted = ("counted with the model's BPE (" + plan.tokens + ")" if plan.tokens != "chars/4"
               else "estimated as characters / 4")
    header = ["study", "method", "calls", "cached", "new calls", "input tokens",
              "output tokens", "cost (USD)"]
    rows = [[s.experiment, s.method, _range(s.calls, at_most=True), _int(s.cached),
             _range(s.new), _range(s.input_tokens), _range(s.output_tokens), _cost_text(s.cost)]
            for s in plan.studies]
    rows.append(["total", "", _range(plan.total("calls"), at_most=True),
                 _int(sum(s.cached for s in plan.studies)), _range(plan.total("new")),
                 _range(plan.total("input_tokens")), _range(plan.total("output_tokens")),
                 _cost_text(plan.total_cost())])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    out = [f"plan for {plan.model}: nothing is sent to the model",
           f"price: {price}", f"input tokens: {counted}", "",
           line(header), *[line(r) for r in rows], ""]
    by_note: dict[str, list[str]] = {}
    for study in plan.studies:
        for note in study.notes:
            by_note.setdefault(note, []).append(study.experiment)
    for note, ids in by_note.items():
        who = "every study" if len(ids) == len(plan.studies) > 1 else ", ".join(ids)
        out.append(f"- {who}: {note}")
    out.extend(f"- {note}" for note in plan.notes)
    return "\n".join(out)
