"""Held-out people: refit the trait-conditioned policy without some people, score it on them.

For a population run the generalisation test leaves out people rather than an axis value: a
seeded :data:`HELD_OUT_SHARE` of the people (at least 2, and at least 2 left to train on), all
of each person's personas together. The refit network's mean total-variation distance to the
LLM's targets for them is shown next to the references of :mod:`.holdout` (copy the nearest
trained persona in the policy's features, interpolate between two, the LLM's own noise floor),
averaged over the held-out personas. Where a numeric trait varies (``age`` first), a second
refit leaves out the people with its highest values (the same share): a held-out trait
*range*, which a network has to extrapolate to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..experiments.core import Experiment
from ..seeding import derived_rng
from .dataset import Target
from .holdout import noise_floor, persona_baselines
from .train import TrainResult, mean_tv

__all__ = ["HELD_OUT_SHARE", "held_out_people"]

HELD_OUT_SHARE = 0.2
"""Share of the people left out of the refit (a design choice)."""

Train = Callable[[list[Target], str], TrainResult]


def _person(name: str) -> str:
    return name.split("/", 1)[0]


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def _score(experiment: Experiment, targets: list[Target], held: set[str], frame: Any,
           train: Train, what: str) -> dict[str, Any] | None:
    seen = [t for t in targets if _person(t.persona.name) not in held]
    unseen = [t for t in targets if _person(t.persona.name) in held]
    if not unseen or len({_person(t.persona.name) for t in seen}) < 2:
        return None
    refit = train(seen, what)
    base = persona_baselines(experiment, seen, unseen)
    names = sorted(base)
    floors = [noise_floor(frame, n) for n in names]
    return {"people": sorted(held), "personas": len(names),
            "train_tv": mean_tv(refit.policy, seen), "held_out_tv": mean_tv(refit.policy, unseen),
            "train_max_tv": refit.max_tv,
            "nearest_tv": _mean([base[n]["nearest_tv"] for n in names]),
            "linear_tv": _mean([base[n]["linear_tv"] for n in names]),
            "noise_floor_tv": _mean([f["tv"] if f else None for f in floors])}


def _range_trait(targets: Sequence[Target]) -> str | None:
    traits: dict[str, set[float]] = {}
    for t in targets:
        for k, v in {**t.persona.traits, **t.persona.values}.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                traits.setdefault(k, set()).add(float(v))
    varied = [k for k, v in traits.items() if len(v) > 2]
    return "age" if "age" in varied else (varied[0] if varied else None)


def held_out_people(experiment: Experiment, targets: list[Target], *, frame: Any, seed: int,
                    train: Train) -> dict[str, Any] | None:
    """The held-out-people block of ``training.generalisation`` (``None`` with < 4 people).

    Keys: ``kind`` (``"people"``), ``held_out`` (person ids), ``train_tv``, ``held_out_tv``,
    ``train_max_tv``, ``nearest_tv``, ``linear_tv``, ``noise_floor_tv`` (means over the
    held-out personas), ``share``, and ``trait_range`` (the same for the people with the
    highest values of one trait: ``trait``, ``from`` (the lowest value left out), or ``None``).
    """
    people = sorted({_person(t.persona.name) for t in targets})
    n_out = max(2, int(round(HELD_OUT_SHARE * len(people))))
    if len(people) - n_out < 2:
        return None
    rng = derived_rng(seed, "held-out people")
    held = {people[i] for i in rng.choice(len(people), size=n_out, replace=False)}
    scored = _score(experiment, targets, held, frame, train, "held-out people refit")
    if scored is None:
        return None
    out = {"kind": "people", "held_out": scored.pop("people"), "share": HELD_OUT_SHARE,
           **scored, "trait_range": None}
    trait = _range_trait(targets)
    if trait is not None:
        value: dict[str, float] = {}
        for t in targets:  # a person crossed with the axis: its highest value
            v = float({**t.persona.traits, **t.persona.values}[trait])
            value[_person(t.persona.name)] = max(v, value.get(_person(t.persona.name), v))
        ranked = sorted(people, key=lambda p: (-value[p], p))[:n_out]
        cut = min(value[p] for p in ranked)
        top = {p for p in people if value[p] >= cut}
        if len(people) - len(top) >= 2:
            ranged = _score(experiment, targets, top, frame, train,
                            f"held-out {trait} range refit")
            if ranged is not None:
                out["trait_range"] = {"trait": trait, "from": cut, **ranged}
    return out
