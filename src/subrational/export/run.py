"""A finished run directory read back for export: its studies, policies and demonstrations.

Only a finished, unaltered run is exported (:func:`subrational.rundir.check_finished`), so an
exported dataset always matches the ``summary.json`` beside it. Each study is rebuilt from its
policy file (which stores the experiment id and constructor options); the personas are the
ones the demonstrations hold, in the order they were asked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import PathError, RunDirError
from ..experiments.core import Experiment, Persona
from .episodes import EpisodeSet, play

__all__ = ["StudyRun", "FinishedRun", "load_run", "check_out", "SOURCES"]

SOURCES = ("demonstrations", "policy")
"""Who acts in the exported episodes: the LLM's demonstrations, the learned policy."""


@dataclass(frozen=True)
class StudyRun:
    """One study of a finished run.

    Attributes:
        experiment: The game, rebuilt with the run's options.
        method: The elicitation method that produced the demonstrations.
        personas: The personas the demonstrations hold.
        frame: The demonstrations table (``demonstrations.parquet``).
        policies: ``demonstrations`` (the LLM's answers as a lookup table) and ``policy`` (the
            learned network).
    """

    experiment: Experiment
    method: str
    personas: tuple[Persona, ...]
    frame: Any
    policies: dict[str, Any]

    def episodes(self, source: str, *, episodes: int, seed: int) -> EpisodeSet:
        """``episodes`` rollouts per persona of one source, seeded by study and source."""
        from ..seeding import derived_rng

        return play(self.experiment, self.policies[source], list(self.personas), source=source,
                    episodes=episodes, rng=derived_rng(seed, "export", self.experiment.id,
                                                       source))


@dataclass(frozen=True)
class FinishedRun:
    """A finished run directory.

    Attributes:
        path: The run directory.
        manifest: ``manifest.json``.
        summary: ``summary.json``.
        studies: Its studies, in run order.
    """

    path: Path
    manifest: dict[str, Any]
    summary: dict[str, Any]
    studies: tuple[StudyRun, ...]


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunDirError(f"cannot read {path} ({exc}); run the study again") from None
    if not isinstance(data, dict):
        raise RunDirError(f"{path} is not a JSON object; run the study again")
    return data


def _study(run: Path, exp_id: str, block: dict[str, Any]) -> StudyRun:
    from ..demonstrations import TablePolicy, read_demonstrations
    from ..learning.policy import load_policy

    policy_file = (block.get("training") or {}).get("policy_file")
    if not isinstance(policy_file, str):
        raise RunDirError(f"{run}/summary.json names no policy file for {exp_id}; run it again")
    policy = load_policy(run / policy_file)
    experiment = policy.experiment
    frame = read_demonstrations(run / experiment.name / "demonstrations.parquet")
    names = list(dict.fromkeys(str(p) for p in frame["persona"]))
    personas = tuple(policy.persona(n) for n in names)
    return StudyRun(experiment, str(block.get("method", "")), personas, frame,
                    {"demonstrations": TablePolicy(experiment, frame), "policy": policy})


def load_run(path: Path) -> FinishedRun:
    """Read the finished run at ``path``, importing the plugins its config names.

    Raises:
        RunDirError: ``path`` is not a finished, unaltered run directory.
    """
    from ..experiments import import_plugins
    from ..rundir import check_finished

    path = Path(path)
    check_finished(path)
    manifest, summary = _json(path / "manifest.json"), _json(path / "summary.json")
    import_plugins(list((manifest.get("config") or {}).get("imports") or []))
    blocks = summary.get("experiments")
    if not isinstance(blocks, dict) or not blocks:
        raise RunDirError(f"{path}/summary.json lists no experiments; run it again")
    studies = tuple(_study(path, exp_id, block) for exp_id, block in blocks.items())
    return FinishedRun(path, manifest, summary, studies)


def check_out(out: Path) -> Path:
    """``out``, checked to be a new or empty folder for an export (nothing is created).

    Raises:
        PathError: ``out`` is a file, or a folder that is not empty.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PathError(f"{out} is a file; export into a new or empty folder")
    if out.is_dir() and any(out.iterdir()):
        raise PathError(f"{out} exists and is not empty; export into a new or empty folder")
    return out
