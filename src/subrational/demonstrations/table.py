"""``demonstrations.parquet``: one row per persona x state x wording x option order.

Columns (format version ``DEMO_FORMAT`` = 3, stored in the Parquet schema metadata):
experiment, experiment_version, persona, persona_kind, state (canonical JSON), state_index,
paraphrase (index of the instructions' wording), variant (option order shown), method, model,
model_hash, probs (list, experiment action order; for ``sample`` the row's raw frequencies),
option_mass, logprobs (list), n_draws, n_failed, failures (JSON), texts (JSON), status, counts
(list: parsed draws per action, ``sample``), episode_steps (JSON list of [episode, step, action,
reward] of the sampled episodes that answered in the row). Format 1 had no ``paraphrase``
column; format 2 had no ``counts`` nor ``episode_steps`` (read with empty ones: its targets
average the rows' smoothed probs and it has no episodes).

Targets: for ``sample`` the counts of a persona x state are pooled over wordings and option
orders first and smoothed once (``smoothing``: :data:`~subrational.elicitation.smoothing.
SMOOTHINGS`); for ``choice-probs`` the rows' distributions are averaged, so the order and
wording effects cancel to first order (they are reported as diagnostics). A state the LLM never
answered in has no target and the lookup policy answers NaN there: unknown, never 50/50.
Parse failures, and the world that counts them as one action: :mod:`.failures`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..elicitation.elicit import ABANDONED, CALL_FAILED, DemoRow
from ..elicitation.parsing import parse_answer
from ..elicitation.smoothing import frequencies, smooth
from ..errors import ConfigError
from ..experiments.core import Experiment, Persona, state_key
from ..experiments.rollout import Trajectory
from ..learning.dataset import Target
from ..paths import write_bytes_atomic
from .failures import complete_abandoned, failure_rates

__all__ = ["DEMO_FORMAT", "to_frame", "write_demonstrations", "read_demonstrations",
           "targets", "TablePolicy", "ObservedRow", "diagnostics"]

DEMO_FORMAT = 3
READABLE_FORMATS = ("2", "3")


def to_frame(experiment: Experiment, rows: Sequence[DemoRow],
             provenance: Mapping[str, Any]) -> pd.DataFrame:
    """Demonstration rows as a DataFrame with provenance columns."""
    index = {state_key(s): i for i, s in enumerate(experiment.states())}
    personas = {r.persona: experiment.persona(r.persona) for r in rows}
    return pd.DataFrame([{
        "experiment": experiment.name,
        "experiment_version": experiment.version,
        "persona": r.persona,
        "persona_kind": personas[r.persona].kind,
        "state": state_key(r.state),
        "state_index": index.get(state_key(r.state), -1),  # -1: reached off the grid
        "paraphrase": r.paraphrase,
        "variant": r.variant,
        "method": r.method,
        "model": provenance.get("model", ""),
        "model_hash": provenance.get("model_hash", ""),
        "probs": list(r.probs),
        "option_mass": r.option_mass,
        "logprobs": [x if np.isfinite(x) else None for x in r.logprobs],
        "n_draws": r.n_draws,
        "n_failed": r.n_failed,
        "failures": json.dumps(r.failures, sort_keys=True),
        "texts": json.dumps(list(r.texts)),
        "status": r.status,
        "counts": [int(x) for x in r.counts],
        "episode_steps": json.dumps([[int(e), int(t), int(a), None if math.isnan(w) else w]
                                     for e, t, a, w in r.episode_steps]),
    } for r in rows])


def write_demonstrations(path: Path, frame: pd.DataFrame) -> None:
    """Write Parquet with the format version in the schema metadata, atomically."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = {**(table.schema.metadata or {}), b"subrational.demo_format": str(DEMO_FORMAT).encode()}
    buffer = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(meta), buffer)
    write_bytes_atomic(path, buffer.getvalue().to_pybytes(), what="the demonstrations file")


def read_demonstrations(path: Path) -> pd.DataFrame:
    """Read a demonstrations file, checking its format version."""
    table = pq.read_table(path)
    version = (table.schema.metadata or {}).get(b"subrational.demo_format", b"?").decode()
    if version not in READABLE_FORMATS:
        raise ConfigError(f"{path} has demonstrations format {version}, this version of "
                          f"subrational reads formats {', '.join(READABLE_FORMATS)}; re-run "
                          "the elicitation")
    frame = table.to_pandas()
    if "counts" not in frame:  # format 2: no raw counts, no episodes
        frame["counts"] = [[] for _ in range(len(frame))]
        frame["episode_steps"] = "[]"
    return frame


def _pooled(frame: pd.DataFrame) -> dict[tuple[str, str], tuple[str, np.ndarray]]:
    """Per persona x state: ("counts", pooled sample counts) or ("probs", averaged probs).

    Sampled rows with raw counts are pooled before any smoothing, failed rows included (they
    add nothing); a cell of a sampled state that no draw parsed in pools to zero counts.
    Choice-probs rows (and format-2 sample rows, which kept no counts) average the ``ok`` rows.
    Cells come in the order of their first row. The sums run over each cell's rows in frame
    order (``np.add.at``), as a per-cell ``np.sum`` / ``np.mean`` over axis 0 would, so the
    numbers are the same to the last bit as pooling cell by cell.
    """
    if not len(frame):
        return {}
    keys = list(zip(frame["persona"].astype(str), frame["state"].astype(str), strict=True))
    codes, cells = pd.factorize(pd.Series(keys, dtype=object))
    n_cells = len(cells)
    counts = frame["counts"].tolist()
    has_counts = (frame["method"] == "sample").to_numpy() & np.array(
        [len(c) > 0 for c in counts], dtype=bool)
    rows = np.bincount(codes, minlength=n_cells)
    all_counts = np.bincount(codes[has_counts], minlength=n_cells) == rows
    ok = (frame["status"] == "ok").to_numpy() & ~all_counts[codes]
    pooled: dict[int, tuple[str, np.ndarray]] = {}
    with_counts = has_counts & all_counts[codes]
    if with_counts.any():
        idx = np.flatnonzero(with_counts)
        stacked = np.array([np.asarray(counts[i], dtype=float) for i in idx])
        sums = np.zeros((n_cells, stacked.shape[1]))
        np.add.at(sums, codes[idx], stacked)
        pooled.update({int(c): ("counts", sums[c]) for c in np.unique(codes[idx])})
    if ok.any():
        idx = np.flatnonzero(ok)
        probs = frame["probs"].tolist()
        stacked = np.array([np.asarray(probs[i], dtype=float) for i in idx])
        sums = np.zeros((n_cells, stacked.shape[1]))
        np.add.at(sums, codes[idx], stacked)
        n = np.bincount(codes[idx], minlength=n_cells)
        pooled.update({int(c): ("probs", sums[c] / n[c]) for c in np.unique(codes[idx])})
    return {cells[c]: pooled[c] for c in sorted(pooled)}


def _distribution(kind: str, values: np.ndarray, *, ordinal: bool, smoothing: str) -> np.ndarray:
    return smooth(values, ordinal=ordinal, smoothing=smoothing) if kind == "counts" else values


def targets(experiment: Experiment, frame: pd.DataFrame,
            personas: Mapping[str, Persona] | None = None, *,
            smoothing: str = "jeffreys") -> list[Target]:
    """Per persona x state training targets.

    Sampled counts are pooled over wordings and orders, then smoothed once with ``smoothing``
    (``jeffreys``: 1/2 pseudo-draw per action; ``none``: frequencies); choice-probs rows are
    averaged. States with no parsed answer have no target.
    """
    personas = personas or experiment.personas
    out = []
    for (p, s), (kind, values) in _pooled(frame).items():
        if kind == "counts" and values.sum() == 0:
            continue
        probs = _distribution(kind, values, ordinal=experiment.ordinal_actions,
                              smoothing=smoothing)
        out.append(Target(personas[p], experiment.state_from_dict(json.loads(s)), probs))
    return out


def _episodes(experiment: Experiment, frame: pd.DataFrame, *, complete_with: int | None = None
              ) -> tuple[dict[str, list[Trajectory]], dict[str, int]]:
    """Sampled episodes per persona, put back together from the rows' ``episode_steps``.

    An abandoned episode is counted (second value) and left out, unless ``complete_with`` is
    an action: then it is finished with that action (:func:`.failures.complete_abandoned`).
    """
    steps: dict[tuple[str, int, str, int], list[tuple[int, Any, int, float]]] = {}
    for persona, state, k, variant, cell in zip(frame["persona"], frame["state"],
                                                frame["paraphrase"], frame["variant"],
                                                frame["episode_steps"], strict=True):
        parsed = json.loads(cell)
        if not parsed:
            continue
        obj = experiment.state_from_dict(json.loads(state))
        for e, t, a, w in parsed:
            steps.setdefault((str(persona), int(k), str(variant), int(e)), []).append(
                (int(t), obj, int(a), math.nan if w is None else float(w)))
    episodes: dict[str, list[Trajectory]] = {}
    abandoned: dict[str, int] = {}
    for (persona, *episode), seq in sorted(steps.items(), key=lambda kv: kv[0]):
        seq.sort(key=lambda x: x[0])
        if any(a == CALL_FAILED for _, _, a, _ in seq):
            continue  # incomplete: its call failed (the next run asks it again)
        if any(a == ABANDONED for _, _, a, _ in seq):
            if complete_with is None:
                abandoned[persona] = abandoned.get(persona, 0) + 1
            else:
                episodes.setdefault(persona, []).append(complete_abandoned(
                    experiment, seq, persona=persona, action=complete_with,
                    episode=tuple(episode)))
            continue
        episodes.setdefault(persona, []).append(Trajectory(
            persona, [s for _, s, _, _ in seq], [a for _, _, a, _ in seq],
            [w for _, _, _, w in seq]))
    return episodes, abandoned


@dataclass(frozen=True)
class ObservedRow:
    """One answered demonstration row, as structural fits read it.

    Attributes:
        state: The game state.
        probs: The stored (smoothed, for sampled answers) distribution.
        block: The wording x option order it was asked in (``"<paraphrase>|<variant>"``).
        counts: Parsed draws per action (``sample``); ``None`` for ``choice-probs``.
    """

    state: Any
    probs: np.ndarray
    block: str
    counts: np.ndarray | None = None


def _counts(experiment: Experiment, row: Any) -> np.ndarray:
    """Parsed draws per action of a sampled row.

    Format 3 stores them (``counts``). For a format-2 row the Jeffreys smoothing of its stored
    probabilities is inverted exactly; an ordinal game's KDE cannot be, so its texts are parsed
    again.
    """
    k = len(experiment.actions)
    stored = getattr(row, "counts", None)
    if stored is not None and len(stored) == k:
        return np.asarray(stored, dtype=int)
    n_ok = int(row.n_draws) - int(row.n_failed)
    raw = np.asarray(row.probs, dtype=float) * (n_ok + 0.5 * k) - 0.5
    counts = np.rint(raw)
    if (not experiment.ordinal_actions and np.allclose(raw, counts, atol=1e-6)
            and counts.min() >= 0 and counts.sum() == n_ok):
        return counts.astype(int)
    parsed = [parse_answer(t, experiment.actions) for t in json.loads(row.texts)]
    return np.bincount([p.option for p in parsed if p.option is not None], minlength=k)


def _failures_as(experiment: Experiment, frame: pd.DataFrame, action: int) -> pd.DataFrame:
    """``frame`` with every failed draw of a sampled row counted as ``action``.

    Each sampled row's counts gain its ``n_failed`` at ``action`` (a format-2 row gets its
    recovered counts first, so its cells are then pooled as counts too); its ``probs`` become
    the new frequencies and a row in which no draw parsed is answered. ``n_failed`` is kept:
    the draws did fail. Choice-probs rows are unchanged.
    """
    out = frame.copy()
    counts, probs, status = list(out["counts"]), list(out["probs"]), list(out["status"])
    for i, row in enumerate(out.itertuples(index=False)):
        if row.method != "sample":
            continue
        c = _counts(experiment, row).astype(int)
        c[action] += int(row.n_failed)
        counts[i], probs[i] = [int(x) for x in c], list(frequencies(c))
        status[i] = "ok" if c.sum() else "failed"
    out["counts"], out["probs"], out["status"] = counts, probs, status
    return out


class TablePolicy:
    """The LLM demonstrations as a policy: a lookup of the pooled distribution per state.

    Sampled rows: the frequencies of the counts pooled over wordings and orders (unsmoothed);
    choice-probs rows: their average. A state with no valid answer (never reached by the
    sampled episodes, or every draw failed) answers NaN: unknown, never a made-up 50/50, so a
    rollout that reaches it fails with :class:`~subrational.experiments.rollout.UnknownState`.
    With sequential sampled demonstrations, :meth:`episodes` gives the LLM's own episodes.

    Args:
        experiment: The game.
        frame: The demonstrations table.
        failures_as: ``None`` for the demonstrations as they are; an action index for the
            world of :meth:`with_failures_as`, in which every failed draw is that action.
    """

    def __init__(self, experiment: Experiment, frame: pd.DataFrame, *,
                 failures_as: int | None = None) -> None:
        self._experiment, self._frame = experiment, frame
        self.failures_as = failures_as
        if failures_as is not None:
            frame = _failures_as(experiment, frame, failures_as)
        self.n_actions = len(experiment.actions)
        self.table: dict[tuple[str, str], np.ndarray] = {}
        self.draws: dict[tuple[str, str], int] = {}
        for key, (kind, values) in _pooled(frame).items():
            if kind == "counts":
                self.draws[key] = int(values.sum())
                if values.sum() == 0:
                    continue
                values = frequencies(values)
            self.table[key] = values
        ok = frame[frame["status"] == "ok"]
        self._rows: dict[str, list[tuple[Any, np.ndarray]]] = {}
        self._draws: dict[str, list[ObservedRow]] = {}
        states: dict[str, Any] = {}  # a state is asked in every wording and order: parse once
        for row in ok.itertuples(index=False):
            state = states.get(row.state)
            if state is None:
                state = states[row.state] = experiment.state_from_dict(json.loads(row.state))
            probs = np.asarray(row.probs, dtype=float)
            self._rows.setdefault(str(row.persona), []).append((state, probs))
            counts = (_counts(experiment, row) if row.method == "sample" else None)
            self._draws.setdefault(str(row.persona), []).append(
                ObservedRow(state, probs, f"{row.paraphrase}|{row.variant}", counts))
        self._episodes, self._abandoned = _episodes(experiment, frame,
                                                    complete_with=failures_as)

    @property
    def failed_draws(self) -> int:
        """Draws of the demonstrations that did not parse (always 0 for ``choice-probs``)."""
        return int(self._frame["n_failed"].sum())

    def with_failures_as(self, action: int) -> TablePolicy:
        """The same demonstrations with every failed draw counted as ``action``.

        Each cell's counts gain its failed draws at ``action``, so a cell in which no draw
        parsed now answers ``action``; an abandoned sampled episode is finished with
        ``action`` from its failed step on (:mod:`.failures` says why). With no failed draw
        (always for ``choice-probs``) this policy itself is returned: the world is the same.
        """
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)) \
                or not 0 <= action < self.n_actions:
            raise ConfigError(f"with_failures_as({action!r}): give an action index from 0 to "
                              f"{self.n_actions - 1} ({', '.join(self._experiment.actions)})")
        if not self.failed_draws:
            return self
        return TablePolicy(self._experiment, self._frame, failures_as=int(action))

    def subset(self, **columns: Any) -> TablePolicy:
        """The demonstrations asked in one wording or option order only.

        E.g. ``subset(paraphrase=0)`` or ``subset(variant="reversed")``.
        """
        keep = np.ones(len(self._frame), dtype=bool)
        for name, value in columns.items():
            keep &= (self._frame[name] == value).to_numpy()
        return TablePolicy(self._experiment, self._frame[keep])

    def observed(self, state: Any, persona: Persona) -> bool:
        """Whether the LLM answered in this cell (sampled episodes may never reach a state)."""
        return (persona.name, state_key(state)) in self.table

    def rows(self, persona: Persona) -> list[tuple[Any, np.ndarray]]:
        """Every answered row of ``persona`` (each wording and option order): (state, probs).

        Structural fits resample these rows, so their intervals carry the wording and order
        effects, not only the state grid.
        """
        return self._rows.get(persona.name, [])

    @property
    def has_episodes(self) -> bool:
        """Whether the demonstrations hold sampled episodes (sequential game, sample method)."""
        return bool(self._episodes) or bool(self._abandoned)

    def episodes(self, persona: Persona) -> list[Trajectory]:
        """The LLM's own completed sampled episodes of ``persona`` (every wording and order).

        Episodes abandoned after unparseable answers are left out (counted by
        :meth:`abandoned`). Rewards are those the game paid when the episode was played.
        """
        return list(self._episodes.get(persona.name, []))

    def abandoned(self, persona: Persona) -> int:
        """Sampled episodes of ``persona`` given up because no answer parsed."""
        return self._abandoned.get(persona.name, 0)

    def observed_rows(self, persona: Persona) -> list[ObservedRow]:
        """Every answered row of ``persona`` with its wording x order block.

        Sampled answers carry the raw counts of parsed draws per action, which structural fits
        use for a binomial likelihood and to resample the draws.
        """
        return self._draws.get(persona.name, [])

    def action_probs(self, state: Any, persona: Persona) -> np.ndarray:
        """Pooled LLM distribution for this persona and state; NaN where it never answered."""
        probs = self.table.get((persona.name, state_key(state)))
        return probs if probs is not None else np.full(self.n_actions, np.nan)


def _spread(values: pd.Series, by: list[pd.Series]) -> pd.Series:
    return values.groupby(by).agg(lambda v: v.max() - v.min())


def diagnostics(frame: pd.DataFrame) -> dict[str, Any]:
    """Option mass, order and wording effects, parse failures and failed cells.

    Sampled demonstrations add their parse failures per persona, per state and in the worst
    cell (:func:`.failures.failure_rates`).

    Effects are on P(first action): the order effect is its range over option orders within a
    persona x state x wording; the wording effect its range over wordings of the order-averaged
    answer; the state effect its range over states of the persona-averaged answer. An effect
    of a factor the design does not vary (one wording, one decision state) is ``None``, not 0.
    """
    ok = frame[frame["status"] == "ok"]
    first = ok["probs"].map(lambda p: float(p[0]))
    cell = [ok["persona"], ok["state"]]
    order = _spread(first, [*cell, ok["paraphrase"]])
    by_wording = first.groupby([*cell, ok["paraphrase"]]).mean()
    wording = by_wording.groupby(level=[0, 1]).agg(lambda v: v.max() - v.min())
    by_state = first.groupby(ok["state"]).mean()
    out: dict[str, Any] = {
        "rows": int(len(frame)),
        "failed_rows": int((frame["status"] != "ok").sum()),
        "order_effect_mean": float(order.mean()) if len(order) else None,
        "order_effect_max": float(order.max()) if len(order) else None,
        "wordings": int(frame["paraphrase"].nunique()),
        "wording_effect_mean": (float(wording.mean())
                                if len(wording) and ok["paraphrase"].nunique() > 1 else None),
        # How much the answer moves with the state, to compare with the effects above.
        "state_effect_range": (float(by_state.max() - by_state.min())
                               if len(by_state) > 1 else None),
    }
    if frame["option_mass"].notna().any():
        out["option_mass_mean"] = float(frame["option_mass"].mean())
        out["option_mass_min"] = float(frame["option_mass"].min())
    draws = int(frame["n_draws"].sum())
    if draws:
        out["draws"] = draws
        out["parse_failures"] = int(frame["n_failed"].sum())
        out["parse_failure_rate"] = float(frame["n_failed"].sum() / draws)
        out.update(failure_rates(frame))
    return out
