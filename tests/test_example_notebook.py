"""``examples/notebook.ipynb`` runs end to end, offline, and shows what it says it shows.

Its code cells are executed in order in one namespace (as a kernel would), so the test needs
no Jupyter; then the values the notebook displays are checked.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

NOTEBOOK = Path(__file__).parents[1] / "examples" / "notebook.ipynb"


def _code_cells(path: Path) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    namespace: dict = {"__name__": "__main__"}
    start = time.perf_counter()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path_factory.mktemp("notebook-cwd"))
        for i, source in enumerate(_code_cells(NOTEBOOK)):
            exec(compile(source, f"{NOTEBOOK.name}[cell {i}]", "exec"), namespace)  # noqa: S102
    return namespace, time.perf_counter() - start


def test_the_notebook_runs_offline_in_under_a_minute(executed):
    namespace, seconds = executed
    assert seconds < 60
    assert namespace["run"].path.parent.name == "runs"
    assert namespace["loaded"].studies == ["ultimatum-v2"]


def test_the_frames_it_shows_hold_the_scripted_truth(executed):
    namespace, _ = executed
    rejection = namespace["rejection"]
    assert list(rejection.columns) == ["fair", "selfish"]
    truth = namespace["responder"]
    for offer in (0.0, 0.2, 0.5):
        state = type("S", (), {"offer": offer})()
        fair = type("P", (), {"name": "fair"})()
        assert rejection.loc[offer, "fair"] == pytest.approx(truth(fair, state)[1], abs=1e-6)
    assert not namespace["loaded"].findings.empty and not namespace["acceptance"].empty


def test_the_policy_earns_what_its_persona_implies(executed):
    namespace, _ = executed
    fair, selfish = (namespace["returns"][p][0] for p in ("fair", "selfish"))
    assert selfish > fair > 0
    policy = namespace["policy"]
    game = policy.experiment
    person = game.persona("selfish")
    expected = sum(p_s * policy.action_probs(s, person)[0] * game.step(s, 0, person).reward
                   for p_s, s in game.initial_states(person))
    assert abs(selfish - expected) < 4 * namespace["returns"]["selfish"][1] / np.sqrt(1000)
