"""A study: a game composed with its analysis, its structural models and its human reference.

The game (an :class:`~subrational.experiments.core.Experiment`) knows nothing of how it is
judged; a :class:`Study` puts the pieces side by side, the way inspect's ``Task(dataset, solver,
scorer)`` keeps a dataset ignorant of its scorer. The analysis imports the game, never the
other way round. Every part but the game is optional: a study without an analysis gets the
default one (P(first action) over the grid, no findings), one without structural models gets no
fits, one without human data compares with nothing and says so.

The one analysis signature, for every study::

    analysis(experiment, policies, personas, *, settings, human) -> Analysis

``policies`` maps source names (``"demonstrations"``, ``"policy"``, baseline names) to
policies, ``settings`` is an :class:`~subrational.evaluation.behaviour.EvalSettings` and
``human`` this study's :class:`HumanReference`. Structural models are built by
``structural_models(experiment, human) -> Sequence[StructuralModel]``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigError
from .core import Experiment, Persona, Policy

if TYPE_CHECKING:
    from importlib.abc import Traversable

    from ..evaluation.behaviour import EvalSettings
    from ..evaluation.records import Analysis
    from ..evaluation.structural import StructuralModel

__all__ = ["Study", "HumanReference", "Citation", "AnalysisFn", "StructuralModelsFn"]


class AnalysisFn(Protocol):
    """The analysis of a study: behaviour statistics, findings and the human comparison."""

    def __call__(self, experiment: Any, policies: Mapping[str, Policy],
                 personas: Sequence[Persona], *, settings: EvalSettings,
                 human: HumanReference) -> Analysis:
        """Return the :class:`~subrational.evaluation.records.Analysis` of ``policies``."""
        ...


StructuralModelsFn = Callable[[Any, "HumanReference"], "Sequence[StructuralModel]"]
"""``structural_models(experiment, human)``: the models fitted per persona to each source."""


@dataclass(frozen=True)
class Citation:
    """One source of human reference numbers.

    Attributes:
        key: Which block of the reference it backs (``"rejection_curve"``, ``"facts[2]"``).
        source: The citation in words (authors, year, journal, sample).
        tag: Confidence tag: V checked in the source, S secondary summary, M literature value.
    """

    key: str
    source: str
    tag: str = ""


@dataclass(frozen=True)
class HumanReference(Mapping[str, Any]):
    """A study's human reference numbers: named blocks, each with its ``source`` (and ``tag``).

    Built from a JSON file or a mapping of the same layout as the shipped
    ``studies/<study>/human.json``: top-level blocks are mappings (or lists of mappings, such
    as ``facts``) that name their ``source``; ``bands`` holds the thresholds the checks use.
    ``HumanReference()`` is the empty reference of a study that compares with nothing.

    Attributes:
        data: The blocks, as read.
        origin: Where they came from (a file path or ``"mapping"``), for error messages.
    """

    data: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.data, Mapping):
            raise ConfigError(f"human reference {self.origin or ''}: expected a mapping of "
                              f"blocks, got {type(self.data).__name__}")
        for key, block in self.data.items():
            for name, item in _blocks(key, block):
                if not isinstance(item.get("source"), str) or not item["source"].strip():
                    raise ConfigError(f"human reference {self.origin or 'mapping'}: block "
                                      f"{name!r} has no 'source'; every number needs its "
                                      "citation (add \"source\": \"Author (year), ...\")")

    @classmethod
    def load(cls, spec: HumanReference | Mapping[str, Any] | str | Path | Traversable | None,
             ) -> HumanReference:
        """A reference from a file path, a mapping, an existing reference or ``None`` (empty)."""
        if spec is None:
            return cls()
        if isinstance(spec, HumanReference):
            return spec
        if isinstance(spec, Mapping):
            return cls(dict(spec), "mapping")
        path = spec if not isinstance(spec, str) else Path(spec)  # a Path or a resource
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"human reference file {path} does not exist") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"human reference file {path} is not readable JSON: {exc}") from None
        return cls(data, str(path))

    def __getitem__(self, key: str) -> Any:
        try:
            return self.data[key]
        except KeyError:
            raise ConfigError(f"human reference {self.origin or 'mapping'} has no block "
                              f"{key!r} (it has: {', '.join(self.data) or 'none'})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @property
    def bands(self) -> Mapping[str, Any]:
        """The thresholds of the human-band checks (empty when there are none)."""
        return self.data.get("bands", {})

    @property
    def citations(self) -> Iterator[Citation]:
        """Every block's source, in file order (the report lists them as references)."""
        for key, block in self.data.items():
            for name, item in _blocks(key, block):
                yield Citation(name, item["source"], str(item.get("tag", "")))

    def references(self) -> list[Citation]:
        """Distinct citations (one per source text), in order of first use."""
        seen: dict[str, Citation] = {}
        for c in self.citations:
            seen.setdefault(c.source, c)
        return list(seen.values())


def _blocks(key: str, block: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(block, Mapping):
        yield key, block
    elif isinstance(block, list):
        for i, item in enumerate(block):
            if isinstance(item, Mapping):
                yield f"{key}[{i}]", item


@dataclass(frozen=True)
class Study:
    """A game composed with its analysis, structural models and human reference.

    Attributes:
        game: The experiment class, or a factory taking the experiment's keyword options.
        analysis: The study's analysis (see the module docstring); ``None`` for the default.
        structural_models: Builder of the structural models; ``None`` for no fits.
        human: The human reference numbers with their citations.
        from_paper: One of the four studies of Coletta et al. (2024), whose claims the report
            checks as paper findings; a study of one's own leaves it ``False``.
        person_measures: With a population, each person's outcomes
            (``person_measures(experiment, policies, personas, *, settings, analysis) ->``
            :class:`~subrational.evaluation.people.PersonMeasures`); ``None``: the study
            reports no population results.
    """

    game: Callable[..., Experiment]
    analysis: AnalysisFn | None = None
    structural_models: StructuralModelsFn | None = None
    human: HumanReference = field(default_factory=HumanReference)
    from_paper: bool = False
    person_measures: Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        if not callable(self.game):
            raise ConfigError(f"Study(game=...) needs an Experiment class or factory, got "
                              f"{self.game!r}")
        for name in ("analysis", "structural_models", "person_measures"):
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise ConfigError(f"Study({name}=...) must be a function, got {value!r}")
        if not isinstance(self.human, HumanReference):
            object.__setattr__(self, "human", HumanReference.load(self.human))

    def models(self, experiment: Experiment) -> Sequence[StructuralModel]:
        """The structural models of ``experiment`` (none when the study defines none)."""
        if self.structural_models is None:
            return ()
        return tuple(self.structural_models(experiment, self.human))
