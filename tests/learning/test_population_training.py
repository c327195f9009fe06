"""A population's policy sees traits, not people: one round of seeds (no retry round for the
plateau guard) and one note, not one per person, when what the traits do not predict cannot be
copied."""

from __future__ import annotations

import hashlib

import numpy as np
from learning_support import reject_curve  # noqa: F401  (registers the built-ins)

from subrational.config import RunConfig
from subrational.learning import Target
from subrational.pipeline import POPULATION_TRAINING, _train, resolve_experiments


def _people_targets(experiment, *, predictable: bool) -> list[Target]:
    """Each person's threshold: from their age (predictable) or from a hash of their id."""
    out = []
    for persona in experiment.personas.values():
        if predictable:
            u = (float(persona.traits["age"]) - 18) / 70
        else:
            u = int(hashlib.sha256(persona.name.encode()).hexdigest()[:8], 16) / 16**8
        for state in experiment.states():
            accept = 1 / (1 + np.exp(-40 * (state.offer - 0.1 - 0.3 * u)))
            out.append(Target(persona, state, np.array([accept, 1 - accept])))
    return out


def _ultimatum(size: int):
    config = RunConfig(experiments=["ultimatum"], population="builtin:adults",
                       population_size=size, seed=0, options={"ultimatum": {"step": 0.1}})
    return resolve_experiments(config)[0], config


def test_unpredictable_people_get_one_note_and_no_retry_round():
    experiment, config = _ultimatum(12)
    notes: list[str] = []
    trained = _train(experiment, _people_targets(experiment, predictable=False), config, notes,
                     "policy")
    assert trained.warnings  # the guard fails: the hash is not a trait
    assert {r.round for r in trained.runs} == {0} and len(trained.runs) == 3
    assert len(notes) == 1 and notes[0].startswith(f"policy: {len(trained.warnings)} of 12 ")
    assert "traits do not predict" in notes[0]
    assert POPULATION_TRAINING.startswith("the policy sees traits")


def test_a_trait_that_predicts_behaviour_is_learned_without_the_retry():
    experiment, config = _ultimatum(12)
    trained = _train(experiment, _people_targets(experiment, predictable=True), config, [],
                     "policy")
    assert trained.fidelity < 0.05, trained.fidelity  # age carries the threshold: it is learned


def test_personas_without_traits_keep_the_guard_retry():
    config = RunConfig(experiments=["ultimatum"], seed=0)
    experiment = resolve_experiments(config)[0]
    unfit = [Target(p, s, np.array(y)) for p in experiment.personas.values()
             for s in experiment.states() for y in ([0.99, 0.01], [0.01, 0.99])]
    trained = _train(experiment, unfit, config, [], "policy")  # two answers per cell: no copy
    assert trained.warnings and {r.round for r in trained.runs} == {0, 1}
    assert len(trained.runs) == 6
