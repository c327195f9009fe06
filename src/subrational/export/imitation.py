"""Export a run in the ``imitation`` library's trajectory layout (extra ``subrational[export]``).

``imitation`` (HumanCompatibleAI) stores a list of ``TrajectoryWithRew`` as a Hugging Face
``datasets`` folder (``imitation.data.serialize.save``), one row per trajectory with the
columns ``obs`` (``T + 1`` observations), ``acts`` (``T`` action indices), ``infos`` (``T``
jsonpickled dicts), ``terminal`` (whether the episode ended rather than being cut off) and
``rews`` (``T`` floats). This module writes exactly that with ``datasets``, **without importing
imitation** (imitation 1.0.1 pins gymnasium ~0.29, which this package cannot use), so that
``imitation.data.serialize.load(OUT/<experiment id>/<source>)`` reads it back.

Each info is plain JSON (which jsonpickle decodes as itself): ``persona``, ``source``, ``state``
(the game state where the action was taken) and ``probs`` (the distribution it was drawn from).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import MissingDependencyError
from .episodes import Episode
from .run import SOURCES, FinishedRun

__all__ = ["COLUMNS", "export_imitation", "trajectories_dict"]

PIP = "pip install 'subrational[export]'"
COLUMNS = ("obs", "acts", "infos", "terminal", "rews")


def _datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise MissingDependencyError("exporting in the imitation layout needs the datasets "
                                     f"package: {PIP}") from None
    return datasets


def trajectories_dict(episodes: tuple[Episode, ...]) -> dict[str, list[Any]]:
    """The columns of imitation's ``trajectories_to_dict`` for ``episodes``."""
    return {
        "obs": [e.observations for e in episodes],
        "acts": [e.actions for e in episodes],
        "infos": [[json.dumps(e.step_info(t), sort_keys=True) for t in range(len(e.actions))]
                  for e in episodes],
        "terminal": [bool(e.terminations[-1]) for e in episodes],
        "rews": [e.rewards for e in episodes],
    }


def export_imitation(run: FinishedRun, out: Path, *, episodes: int, seed: int) -> list[Path]:
    """Write ``out/<experiment id>/<source>`` datasets; returns their folders."""
    datasets = _datasets()
    quiet = datasets.utils.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # a bar per folder says nothing
    try:
        return _write(datasets, run, out, episodes=episodes, seed=seed)
    finally:
        if not quiet:
            datasets.enable_progress_bars()


def _write(datasets: Any, run: FinishedRun, out: Path, *, episodes: int,
           seed: int) -> list[Path]:
    written = []
    for study in run.studies:
        for source in SOURCES:
            played = study.episodes(source, episodes=episodes, seed=seed)
            if not played.episodes:
                continue
            folder = out / study.experiment.id / source
            datasets.Dataset.from_dict(trajectories_dict(played.episodes)).save_to_disk(
                str(folder))
            written.append(folder)
    return written
