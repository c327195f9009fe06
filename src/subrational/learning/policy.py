"""A trained policy network bound to its experiment, and its versioned file format.

The file is ``torch.save`` of a plain dict, read back with ``weights_only=True`` (no pickled
code)::

    {"format": "subrational-policy", "format_version": 2,
     "experiment": "ultimatum-v2", "options": {...constructor options...},
     "actions": [...], "feature_names": [...],
     "personas": {name: {"text": ..., "kind": ..., "values": {...}[, "traits": {...}]}},
     "hidden": 64, "state_dict": {...}, "train": {...JSON-safe config and metrics...},
     "sha256": "..."}

A persona's ``traits`` (a population member's, :mod:`subrational.experiments.population`) are
stored only when it has some; files without them read as personas without traits.

``sha256`` is the digest of everything else: the canonical JSON of the other fields, then each
tensor's name, dtype, shape and bytes (:func:`payload_sha256`). Format 1 had none and still
loads (:data:`READABLE_VERSIONS`): it has no digest to verify, but every other check applies.

:func:`load_policy` verifies that digest (flipped bytes or a hand-edited field are refused, not
loaded as NaN weights or another grid), refuses non-finite weights, rebuilds the experiment from
the registry with the stored options (any failure is one line) and refuses a file whose feature
spec or actions no longer match it, since the weights would silently mean something else. A
policy inside a run directory is read only when that run finished
(:func:`subrational.rundir.check_finished`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import PolicyFileError, SubrationalError, UnknownNameError
from ..experiments.core import Experiment, Persona
from ..paths import ensure_dir, write_bytes_atomic
from .inputs import check_state, observation_batch
from .network import PolicyNetwork

__all__ = ["LearnedPolicy", "load_policy", "payload_sha256", "FORMAT", "FORMAT_VERSION",
           "READABLE_VERSIONS"]

FORMAT = "subrational-policy"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
"""Format versions :func:`load_policy` reads: 1 (no digest) and 2 (SHA-256 digest)."""


class LearnedPolicy:
    """A policy network for one experiment; satisfies the :class:`Policy` protocol.

    Args:
        experiment: The experiment whose states and personas the network encodes.
        network: The trained network (put in eval mode; not trained further here).
        personas: Extra personas usable by name (e.g. held-out values seen in training); they
            take precedence over the experiment's personas of the same name.
        train_info: JSON-safe training config and metrics, stored with the weights.
    """

    def __init__(self, experiment: Experiment, network: PolicyNetwork, *,
                 personas: Mapping[str, Persona] | None = None,
                 train_info: Mapping[str, Any] | None = None) -> None:
        self.experiment = experiment
        self.network = network.eval()
        self.personas: dict[str, Persona] = {**experiment.personas, **(personas or {})}
        self.train_info: dict[str, Any] = dict(train_info or {})
        self.hidden = network.hidden
        self._rng = np.random.default_rng(0)  # predict()'s draws when no rng is given

    def __repr__(self) -> str:
        return f"LearnedPolicy({self.experiment.id}, hidden={self.hidden})"

    @property
    def actions(self) -> tuple[str, ...]:
        """The experiment's action names, in output order."""
        return tuple(self.experiment.actions)

    def persona(self, persona: Persona | str) -> Persona:
        """Resolve a persona name (the experiment's or one stored with the policy)."""
        if isinstance(persona, Persona):
            return persona
        if persona in self.personas:
            return self.personas[persona]
        raise UnknownNameError(f"persona of {self.experiment.id} policy", persona, self.personas)

    def _state(self, state: Any) -> Any:
        return check_state(self.experiment, state)

    def action_probs_batch(self, states: Sequence[Any],
                           personas: Sequence[Persona | str] | Persona | str) -> np.ndarray:
        """P(action | state, persona) for many rows, shape ``(n, n_actions)``, float64.

        ``personas`` is one persona for every state or one per state.
        """
        if isinstance(personas, (Persona, str)):
            personas = [personas] * len(states)
        if len(personas) != len(states):
            raise ValueError(f"got {len(states)} states but {len(personas)} personas")
        if not states:
            return np.zeros((0, len(self.actions)))
        x = np.stack([self.experiment.encode(self._state(s), self.persona(p))
                      for s, p in zip(states, personas, strict=True)]).astype(np.float32)
        with torch.no_grad():
            probs = self.network(torch.from_numpy(x)).exp().numpy().astype(np.float64)
        return probs / probs.sum(axis=1, keepdims=True)

    def action_probs(self, state: Any, persona: Persona | str) -> np.ndarray:
        """P(action | state, persona), shape ``(n_actions,)``, summing to 1.

        ``state`` is the experiment's state object or a plain dict of its fields; ``persona`` a
        :class:`Persona` or a persona name.
        """
        return self.action_probs_batch([state], [persona])[0]

    def act(self, state: Any, persona: Persona | str, *, rng: np.random.Generator) -> int:
        """Sample an action index from :meth:`action_probs`."""
        probs = self.action_probs(state, persona)
        return int(rng.choice(len(probs), p=probs))

    def seed(self, seed: int) -> None:
        """Restart the draws :meth:`predict` makes when it is given no ``rng`` (default seed 0)."""
        self._rng = np.random.default_rng(seed)

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None,
                deterministic: bool = False, *, rng: np.random.Generator | None = None
                ) -> tuple[Any, Any]:
        """stable-baselines3's ``predict``: actions for observations of the study's Gymnasium env.

        An observation is the env's (:class:`~subrational.experiments.env.GameEnv`): state
        features then persona features, so the persona travels in it. ``state`` and
        ``episode_start`` (recurrent policies) are accepted and ``state`` is returned unchanged,
        so ``evaluate_policy(policy, env)`` and imitation-style rollouts take this policy.

        Args:
            observation: One observation, shape ``(n_features,)``, or a batch ``(n, n_features)``.
            state: Returned as given (this policy has no memory).
            episode_start: Ignored (no memory to reset).
            deterministic: The most probable action instead of a draw.
            rng: Where draws come from; without one, the policy's own generator (seeded 0,
                restart it with :meth:`seed`).

        Returns:
            ``(actions, state)``: an ``np.int64`` for one observation, an ``int64`` array of
            shape ``(n,)`` for a batch.

        Raises:
            StateError: An observation of another shape, not numbers, or off the grid.
        """
        x, single = observation_batch(observation, self.experiment.feature_names())
        with torch.no_grad():
            probs = self.network(torch.from_numpy(x)).exp().numpy().astype(np.float64)
        probs /= probs.sum(axis=1, keepdims=True)
        if deterministic:
            actions = probs.argmax(axis=1)
        else:  # one uniform per row through the cumulative distribution
            u = (rng if rng is not None else self._rng).random((len(probs), 1))
            actions = np.minimum((u > probs.cumsum(axis=1)).sum(axis=1), probs.shape[1] - 1)
        actions = actions.astype(np.int64)
        return (actions[0] if single else actions), state

    def to_dict(self) -> dict[str, Any]:
        """The stored form (see the module docstring)."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "experiment": self.experiment.id,
            "options": dict(self.experiment.options),
            "actions": list(self.experiment.actions),
            "feature_names": list(self.experiment.feature_names()),
            "personas": {name: {"text": p.text, "kind": p.kind,
                                "values": {k: float(v) for k, v in p.values.items()},
                                **({"traits": dict(p.traits)} if p.traits else {})}
                         for name, p in self.personas.items()},
            "hidden": self.hidden,
            "state_dict": {k: v.detach().clone() for k, v in self.network.state_dict().items()},
            "train": self.train_info,
        }

    def _stored(self) -> dict[str, Any]:
        data = self.to_dict()
        data["sha256"] = payload_sha256(data)
        return data

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the policy to ``path`` (parent folders are created); returns the path."""
        path = ensure_dir(Path(path).parent, what="the policy folder") / Path(path).name
        buffer = io.BytesIO()
        torch.save(self._stored(), buffer)
        return write_bytes_atomic(path, buffer.getvalue(), what="the policy file")


def payload_sha256(data: Mapping[str, Any]) -> str:
    """SHA-256 of a stored policy's fields except ``sha256`` (see the module docstring)."""
    h = hashlib.sha256()
    fields = {k: v for k, v in data.items() if k not in ("state_dict", "sha256")}
    h.update(json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str).encode())
    for name in sorted(data["state_dict"]):
        tensor = data["state_dict"][name].detach().cpu().contiguous()
        h.update(f"\0{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        h.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return h.hexdigest()


def load_policy(path: str | os.PathLike[str]) -> LearnedPolicy:
    """Read a policy saved with :meth:`LearnedPolicy.save`.

    Raises:
        PolicyFileError: The file is missing, is not a policy file, has another format
            version, fails its digest, has non-finite weights, names an unregistered experiment,
            cannot rebuild its experiment from the stored options, or no longer matches it.
        RunDirError: The file lies in a run directory that is unfinished or mixed.
    """
    from ..rundir import check_finished, run_dir_of

    path = Path(path)
    if not path.is_file():
        raise PolicyFileError(f"no policy file at {path}; train one first or check the path")
    run = run_dir_of(path)
    if run is not None:
        check_finished(run)
    data = _read(path)
    try:
        return _from_dict(data, path)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise PolicyFileError(f"{path} is a damaged policy file ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}); "
                              "retrain the policy") from exc


def _read(path: Path) -> dict[str, Any]:
    """The stored dict, its marker, version, digest and weights checked."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a non-torch file
        raise PolicyFileError(f"{path} is not a subrational policy file "
                              f"(torch.load failed: {type(exc).__name__})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PolicyFileError(f"{path} is not a subrational policy file "
                              f"(no format={FORMAT!r} marker)")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) \
            or version not in READABLE_VERSIONS:
        raise PolicyFileError(f"{path} has policy format version {version!r}; this subrational "
                              f"reads versions {', '.join(map(str, READABLE_VERSIONS))}: retrain "
                              "the policy or use the subrational version that wrote it")
    try:
        weights = dict(data["state_dict"])
        intact = version == 1 or data.get("sha256") == payload_sha256(data)  # v1: no digest
    except Exception:  # a damaged field of any type: the digest cannot even be computed
        intact, weights = False, {}
    if not intact and version == 1:
        raise PolicyFileError(f"{path} is a damaged policy file (format 1, its weights are not "
                              "a state_dict); retrain the policy")
    if not intact:
        raise PolicyFileError(f"{path} is damaged: its contents do not match the SHA-256 stored "
                              "with them; copy it again or retrain the policy")
    bad = [name for name, t in weights.items()
           if not isinstance(t, torch.Tensor) or not bool(torch.isfinite(t).all())]
    if bad:
        raise PolicyFileError(f"{path} has non-finite weights ({', '.join(bad)}); retrain the "
                              "policy")
    return data


def _experiment(data: dict[str, Any], path: Path) -> Experiment:
    """The experiment rebuilt from the registry with the stored options, or one line."""
    import subrational.experiments  # noqa: F401  (registers the built-in experiments)
    from subrational.experiments.registry import make

    exp_id, options = data["experiment"], data.get("options", {})
    if not isinstance(options, dict):
        raise PolicyFileError(f"{path} stores options of type {type(options).__name__}, not a "
                              "mapping; retrain the policy")
    try:
        return make(exp_id, **options)
    except UnknownNameError:
        raise PolicyFileError(f"{path} was trained on experiment {exp_id!r}, which is not "
                              "registered; import the module that registers it before "
                              "load_policy") from None
    except Exception as exc:  # a constructor may raise anything on options it rejects
        reason = (str(exc).splitlines() or [type(exc).__name__])[0] if not isinstance(
            exc, SubrationalError) else str(exc)
        raise PolicyFileError(f"{path}: experiment {exp_id} cannot be rebuilt from the stored "
                              f"options {options} ({reason}); retrain the policy") from None


def _from_dict(data: dict[str, Any], path: Path) -> LearnedPolicy:
    exp_id = data["experiment"]
    experiment = _experiment(data, path)
    stored, current = list(data["feature_names"]), experiment.feature_names()
    if stored != current:
        raise PolicyFileError(f"the experiment definition of {exp_id} changed since {path} was "
                              f"trained (features {stored} -> {current}); retrain the policy")
    if list(data["actions"]) != list(experiment.actions):
        raise PolicyFileError(f"the experiment definition of {exp_id} changed since {path} was "
                              f"trained (actions {data['actions']} -> {list(experiment.actions)});"
                              " retrain the policy")
    network = PolicyNetwork(len(current), len(experiment.actions), int(data["hidden"]))
    network.load_state_dict(data["state_dict"])
    personas = {name: Persona(name, p["text"], p["kind"], dict(p["values"]),
                              dict(p.get("traits", {})))
                for name, p in data["personas"].items()}
    return LearnedPolicy(experiment, network, personas=personas, train_info=data["train"])
