"""A finished two-study run (one single-step, one sequential game) shared by the export tests."""

from __future__ import annotations

import pytest

PERSONAS = {"ultimatum-v2": ["fair"], "marshmallow-v1": ["age-2", "age-5"]}


def probs(persona, state):
    """A known truth: P(second action) rises with the state's first number, per persona."""
    value = float(next(iter(vars(state).values())))
    return [0.8 - 0.02 * value, 0.2 + 0.02 * value] if persona.name != "age-5" else [0.1, 0.9]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished run directory of ultimatum (fair) and marshmallow (ages 2 and 5)."""
    from subrational.backends.scripted import ScriptedBackend
    from subrational.config import RunConfig
    from subrational.pipeline import run

    root = tmp_path_factory.mktemp("export-run")
    with pytest.MonkeyPatch.context() as patch:  # never the user's cache, even module-scoped
        patch.setenv("SUBRATIONAL_CACHE_DIR", str(root / "cache"))
        config = RunConfig(experiments=list(PERSONAS), model="scripted:x",
                           personas=[p for names in PERSONAS.values() for p in names],
                           paraphrases=1, bootstrap=20, episodes=50)
        run(config, out=root / "run", backend=ScriptedBackend("x", probs_fn=probs))
    return root / "run"


def export_to(finished_run, tmp_path_factory, target: str, episodes: int):
    """The folder ``subrational export --to target`` writes for the shared run."""
    from subrational.cli import main

    out = tmp_path_factory.mktemp(target) / "out"
    assert main(["export", str(finished_run), "--to", target, str(out), "--episodes",
                 str(episodes)]) == 0
    return out
