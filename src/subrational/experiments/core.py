"""The experiment contract: a pure game core plus what is needed to ask an LLM about it.

A game is plain functions over a frozen state: which states to ask about, what happens after an
action (:class:`Step`), how the situation reads to a person, and how the state is encoded as
numbers for a policy network. Everything else in subrational (elicitation, learning, rollouts,
evaluation, the report) only talks to an :class:`Experiment` through this contract, so a new game
defined outside the package gets the whole pipeline.
"""

from __future__ import annotations

import dataclasses
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from ..errors import ConfigError, UnknownNameError

__all__ = ["Persona", "Step", "Policy", "ObservedPolicy", "Experiment", "state_key",
           "state_to_dict"]


@dataclass(frozen=True)
class Persona:
    """A kind of person the LLM is asked to impersonate.

    Attributes:
        name: Registry name, e.g. ``"fair"`` or ``"age-5"``.
        text: How the persona is introduced in the prompt (second person, one sentence or two).
        kind: Categorical persona type, one-hot encoded for the policy (defaults to ``name``).
        values: Numeric persona axes (e.g. ``{"age": 5}``) in raw units; the experiment
            normalises them.
        traits: A population member's traits (``{"age": 34.0, "gender": "female"}``; numbers
            as floats, categories as text), encoded by the experiment's ``trait_encoding``;
            empty for the studies' own personas (see :mod:`subrational.experiments.population`).
    """

    name: str
    text: str
    kind: str = ""
    values: Mapping[str, float] = field(default_factory=dict)
    traits: Mapping[str, float | str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name or not self.text:
            raise ConfigError("a Persona needs a non-empty name and text")
        if not self.kind:
            object.__setattr__(self, "kind", self.name)


@dataclass(frozen=True)
class Step:
    """Result of one transition of a game core.

    Attributes:
        next_state: The state after the action, or ``None`` when the episode ended.
        reward: The decision maker's material payoff for this step (money, treats, ...).
        terminated: True when the episode is over.
    """

    next_state: Any
    reward: float
    terminated: bool


@runtime_checkable
class Policy(Protocol):
    """Anything that gives a distribution over an experiment's actions.

    LLM demonstrations, a learned network and rational/behavioural baselines all are policies.
    """

    def action_probs(self, state: Any, persona: Persona) -> np.ndarray:
        """Return P(action | state, persona) as an array of shape ``(n_actions,)`` summing to 1."""
        ...


@runtime_checkable
class ObservedPolicy(Policy, Protocol):
    """A policy that also keeps the observations behind it, one per elicited row.

    The LLM's demonstrations are one: a row per wording x option order of every state, so that
    structural fits resample what the model said, not only the averaged grid.
    """

    def rows(self, persona: Persona) -> list[tuple[Any, np.ndarray]]:
        """Every observed row of ``persona``: (state, P(action | state))."""
        ...


_SCALARS = frozenset({int, float, str, bool, type(None)})
"""Field types :func:`dataclasses.asdict` returns unchanged (it deep-copies everything else)."""
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def state_to_dict(state: Any) -> dict[str, Any]:
    """Plain-dict view of a frozen dataclass state (for storage and prompts).

    Equal to :func:`dataclasses.asdict`; a state whose fields are all plain scalars (every
    built-in study's) skips its recursive deep copy, which dominated the exact behaviour
    statistics (one key per state and policy).
    """
    names = _FIELD_NAMES.get(type(state))
    if names is None:
        if not dataclasses.is_dataclass(state) or isinstance(state, type):
            return dataclasses.asdict(state)  # its own TypeError
        names = _FIELD_NAMES[type(state)] = tuple(f.name for f in dataclasses.fields(state))
    out = {name: getattr(state, name) for name in names}
    if all(type(v) in _SCALARS for v in out.values()):
        return out
    return dataclasses.asdict(state)


def state_key(state: Any) -> str:
    """Canonical JSON of a state: stable identity across processes and files."""
    return json.dumps(state_to_dict(state), sort_keys=True, separators=(",", ":"))


class Experiment(ABC):
    """A decision problem posed to an LLM persona and learned by imitation.

    Subclasses set the class attributes and implement the abstract methods. Keep the text of
    :meth:`instructions` and :meth:`situation` stable: any wording change must bump ``version``,
    because the cache and stored demonstrations are keyed on the rendered prompt.

    Attributes:
        name: Short registry name (``"ultimatum"``).
        version: Integer version; the versioned id is ``f"{name}-v{version}"``.
        title: Human title for the report.
        actions: Answer options shown to the model. Their first words must differ, so that the
            first token of the answer decides the option (choice-probs) and parsing is unambiguous.
        state_type: The frozen dataclass of this game's states.
        persona_axes: Numeric persona axes and their (low, high) range, for normalisation.
        ordinal_actions: Whether actions are ordered levels (sampled answers are then smoothed
            with a KDE instead of a Jeffreys prior).
        sequential: Whether an episode has several decisions (the ``sample`` method then asks the
            model along rollouts of its own choices instead of at every grid state).
        holdout_personas: Persona values left out of a second, generalisation fit (DESIGN 3.5);
            empty when the personas cannot be interpolated (categorical kinds).
        population_axis: The population trait that is this study's own axis (``"age"`` for
            the marshmallow child), or ``None``; a person without it is crossed with the
            study's axis values.
        population_template_version: Version of the template that writes a population
            member's traits into the prompt (0: the study takes no population); bump it when
            that text changes.
        population_builtin: The built-in sampler whose people the study takes
            (``"children"`` for the marshmallow test, ``"adults"`` for the other built-in
            studies), or ``None`` (any). A run with another built-in (``--population
            builtin:adults`` over all four studies) draws this one for the study instead, with
            the same size and seed; the manifest says so. A population file is never swapped.
        trait_encoding: How the personas' traits enter :meth:`encode` (set by a study built
            with a population, :class:`~subrational.experiments.population.TraitEncoding`);
            ``None`` adds no features.
    """

    name: ClassVar[str]
    version: ClassVar[int]
    title: ClassVar[str]
    actions: ClassVar[tuple[str, ...]]
    state_type: ClassVar[type]
    persona_axes: ClassVar[Mapping[str, tuple[float, float]]] = {}
    ordinal_actions: ClassVar[bool] = False
    sequential: ClassVar[bool] = False
    holdout_personas: ClassVar[tuple[str, ...]] = ()
    population_axis: ClassVar[str | None] = None
    population_template_version: ClassVar[int] = 0
    population_builtin: ClassVar[str | None] = None
    trait_encoding: Any = None
    options: dict[str, Any] = {}  # constructor options it was made with (set by ``make``)

    @property
    def id(self) -> str:
        """Versioned id, e.g. ``ultimatum-v2``."""
        return f"{self.name}-v{self.version}"

    @property
    def of_people(self) -> bool:
        """Whether its personas are a population's people (built with ``trait_encoding``).

        Then the policy sees their traits, held-out checks hold out people, and the bootstraps
        resample people first.
        """
        return self.trait_encoding is not None

    # -- personas -----------------------------------------------------------------------------
    @property
    @abstractmethod
    def personas(self) -> Mapping[str, Persona]:
        """All personas this experiment knows, by name."""

    @property
    def default_personas(self) -> Sequence[str]:
        """Personas a plain ``subrational run`` elicits (all of them unless overridden)."""
        return list(self.personas)

    def persona(self, name: str) -> Persona:
        """Look a persona up by name, with a did-you-mean on a typo."""
        try:
            return self.personas[name]
        except KeyError:
            raise UnknownNameError(f"persona of {self.name}", name, self.personas) from None

    @property
    def persona_kinds(self) -> tuple[str, ...]:
        """Sorted persona kinds, the categories of the persona one-hot encoding."""
        return tuple(sorted({p.kind for p in self.personas.values()}))

    # -- the game core ------------------------------------------------------------------------
    @abstractmethod
    def states(self) -> Sequence[Any]:
        """The decision states the LLM is asked about (the elicitation grid)."""

    @abstractmethod
    def initial_state(self, persona: Persona, *, rng: np.random.Generator) -> Any:
        """Draw the first state of an episode."""

    def initial_states(self, persona: Persona) -> Sequence[tuple[float, Any]] | None:
        """The distribution :meth:`initial_state` draws from: (probability, state) pairs.

        Exact behaviour statistics enumerate every episode from these states; ``None`` (the
        default) says the distribution is not known, and the statistics then come from
        rollouts. A game that overrides it must keep it equal to what :meth:`initial_state`
        draws (the conformance tests of the built-in studies check theirs).
        """
        return None

    def step(self, state: Any, action: int, persona: Persona) -> Step:
        """Apply ``action`` (an index into :attr:`actions`) in ``state`` (deterministic games).

        Games with chance (a coin flip) override :meth:`transitions` instead.
        """
        raise NotImplementedError(f"{type(self).__name__} must define step() or transitions()")

    def transitions(self, state: Any, action: int,
                    persona: Persona) -> Sequence[tuple[float, Step]]:
        """Every outcome of ``action`` in ``state`` with its probability (they sum to 1).

        Baselines solved by value iteration and exact behaviour statistics read this; the
        Gymnasium environment samples from it. Deterministic games need only :meth:`step`.
        """
        return [(1.0, self.step(state, action, persona))]

    def sample_step(self, state: Any, action: int, persona: Persona, *,
                    rng: np.random.Generator) -> Step:
        """One outcome of ``action`` drawn from :meth:`transitions` with ``rng``."""
        outcomes = self.transitions(state, action, persona)
        if len(outcomes) == 1:
            return outcomes[0][1]
        probs = np.array([p for p, _ in outcomes], dtype=float)
        return outcomes[int(rng.choice(len(outcomes), p=probs / probs.sum()))][1]

    @abstractmethod
    def state_features(self, state: Any) -> Mapping[str, float]:
        """Numeric features of a state, each scaled to [0, 1]. Keys are the same for every state."""

    # -- the text the model sees --------------------------------------------------------------
    @abstractmethod
    def instructions(self, persona: Persona) -> str:
        """The fixed story and the persona (system message; shared across states)."""

    def paraphrases(self, persona: Persona) -> Sequence[str]:
        """Equivalent wordings of the instructions; the first is :meth:`instructions` itself.

        A study gives several so that the report can separate what the wording does to the
        answers from what the situation does (a designed factor, like the option order).
        Changing or adding a wording changes the prompts: bump ``version``.
        """
        return (self.instructions(persona),)

    @abstractmethod
    def situation(self, state: Any, persona: Persona) -> str:
        """What has happened so far and what must be decided now (comes last in the prompt)."""

    # -- reference behaviour ------------------------------------------------------------------
    def baselines(self) -> Mapping[str, Policy]:
        """Rational and behavioural reference policies, by name (the analysis plots them)."""
        return {}

    # -- helpers built on the contract --------------------------------------------------------
    def state_from_dict(self, data: Mapping[str, Any]) -> Any:
        """Rebuild a state from its plain-dict form (parquet rows, policy users)."""
        try:
            return self.state_type(**data)
        except TypeError as exc:
            fields = [f.name for f in dataclasses.fields(self.state_type)]
            raise ConfigError(f"{self.name} states have fields {fields}; got {dict(data)}") from exc

    def persona_vector(self, persona: Persona) -> np.ndarray:
        """Normalised numeric persona axes, a one-hot of the persona kind, then the traits.

        The traits' features (numbers scaled to [0, 1] on their fixed ranges, categories
        one-hot) exist only when the study was built with a population.
        """
        numeric = [_scale(persona.values.get(axis, lo), lo, hi)
                   for axis, (lo, hi) in self.persona_axes.items()]
        kinds = self.persona_kinds
        onehot = [1.0 if persona.kind == k else 0.0 for k in kinds] if len(kinds) > 1 else []
        traits = self.trait_encoding.vector(persona.traits) if self.trait_encoding else []
        return np.asarray(numeric + onehot + traits, dtype=np.float32)

    def feature_names(self) -> list[str]:
        """Names of the columns of :meth:`encode`."""
        state_names = list(self.state_features(self.states()[0]))
        kinds = self.persona_kinds
        return (state_names + [f"persona.{a}" for a in self.persona_axes]
                + ([f"kind={k}" for k in kinds] if len(kinds) > 1 else [])
                + (self.trait_encoding.names() if self.trait_encoding else []))

    def encode(self, state: Any, persona: Persona) -> np.ndarray:
        """Policy input: state features then persona features, float32."""
        state_part = np.fromiter(self.state_features(state).values(), dtype=np.float32)
        return np.concatenate([state_part, self.persona_vector(persona)])


def _scale(value: float, lo: float, hi: float) -> float:
    return 0.0 if hi == lo else (float(value) - lo) / (hi - lo)
