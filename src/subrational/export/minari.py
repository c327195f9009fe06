"""Export a run as Minari datasets (``pip install 'subrational[minari]'``).

``OUT`` becomes a Minari datasets root: one dataset per study and source, with the id
``subrational/<experiment id>/<source>-v0`` (source ``demonstrations``: the LLM's answers;
``policy``: the learned network), read with ``MINARI_DATASETS_PATH=OUT`` and
``minari.load_dataset(id)``. Each dataset stores the study's Gymnasium ``EnvSpec``
(:mod:`.envspec`), so ``dataset.recover_environment()`` rebuilds the game (for the first
persona; ``gymnasium.make(dataset.spec.env_spec, persona=NAME)`` for another).

Per step, ``infos`` hold ``persona`` (its name), ``state`` (the game state as canonical JSON)
and ``probs`` (the exact distribution the action was drawn from; NaN on the observation after
the last action, where nothing was drawn). Minari needs Python >= 3.11 and NumPy >= 2.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingDependencyError
from .envspec import env_spec
from .episodes import Episode
from .run import SOURCES, FinishedRun, StudyRun

__all__ = ["dataset_id", "export_minari"]

PIP = "pip install 'subrational[minari]'"


def _minari() -> Any:
    try:
        import minari
    except ImportError:
        raise MissingDependencyError(f"exporting to Minari needs the minari package: {PIP} "
                                     "(Python >= 3.11, NumPy >= 2)") from None
    return minari


def dataset_id(study: StudyRun, source: str) -> str:
    """``subrational/<experiment id>/<source>-v0``."""
    return f"subrational/{study.experiment.id}/{source}-v0"


@contextmanager
def _datasets_root(out: Path) -> Iterator[None]:
    """Point Minari at ``out`` while writing (it reads the root from the environment)."""
    before = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(Path(out).resolve())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = before


def _buffer(index: int, episode: Episode) -> Any:
    from minari.data_collector import EpisodeBuffer

    steps = len(episode.actions)
    last = np.full((1, episode.probs.shape[1]), np.nan)
    infos = {"persona": [episode.persona] * (steps + 1), "state": list(episode.states),
             "probs": np.vstack([episode.probs, last])}
    return EpisodeBuffer(id=index, seed=episode.seed, observations=episode.observations,
                         actions=episode.actions, rewards=episode.rewards,
                         terminations=episode.terminations, truncations=episode.truncations,
                         infos=infos)


def _description(run: FinishedRun, study: StudyRun, source: str, dropped: int) -> str:
    who = ("the LLM's demonstrations (its answers as a lookup table)" if source == "demonstrations"
           else "the policy network trained on the LLM's demonstrations")
    model = run.summary.get("model", "?")
    note = f" {dropped} episodes reached a state with no answer and were dropped." \
        if dropped else ""
    return (f"SYNTHETIC, NOT HUMAN DATA. Episodes of {study.experiment.title} "
            f"({study.experiment.id}) played by {who}; model {model}, method {study.method}, "
            f"prompt version {run.manifest.get('prompt_version', '?')}. Made by subrational "
            f"{run.manifest.get('subrational', '?')}.{note}")


def export_minari(run: FinishedRun, out: Path, *, episodes: int, seed: int) -> list[str]:
    """Write one Minari dataset per study and source under ``out``; returns their ids."""
    minari = _minari()
    imports = list((run.manifest.get("config") or {}).get("imports") or [])
    written = []
    with _datasets_root(out), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Minari's hints about authors, links
        for study in run.studies:
            spec = env_spec(study.experiment, study.personas[0], imports=imports,
                            personas=study.personas)
            for source in SOURCES:
                played = study.episodes(source, episodes=episodes, seed=seed)
                buffers = [_buffer(i, e) for i, e in enumerate(played.episodes)]
                if not buffers:  # every episode reached a state with no answer
                    continue
                name = dataset_id(study, source)
                minari.create_dataset_from_buffers(
                    name, buffers, env=spec, algorithm_name=f"subrational-{source}",
                    author="subrational (synthetic data)",
                    description=_description(run, study, source, played.dropped),
                    requirements=["subrational"])
                written.append(name)
    return written
