"""``demonstrations.parquet``: one row per persona x state x wording x option order.

Columns (format version ``DEMO_FORMAT`` = 2, stored in the Parquet schema metadata):
experiment, experiment_version, persona, persona_kind, state (canonical JSON), state_index,
paraphrase (index of the instructions' wording), variant (option order shown), method, model,
model_hash, probs (list, experiment action order), option_mass, logprobs (list), n_draws,
n_failed, failures (JSON), texts (JSON), status. Format 1 had no ``paraphrase`` column.

Targets average the wordings and option orders of a persona x state, so their effects cancel
to first order; the effects themselves are reported as diagnostics.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..elicitation.elicit import DemoRow
from ..elicitation.parsing import parse_answer
from ..errors import ConfigError
from ..experiments.core import Experiment, Persona, state_key
from ..learning.dataset import Target
from ..paths import write_bytes_atomic

__all__ = ["DEMO_FORMAT", "to_frame", "write_demonstrations", "read_demonstrations",
           "targets", "TablePolicy", "ObservedRow", "diagnostics"]

DEMO_FORMAT = 2


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
    if version != str(DEMO_FORMAT):
        raise ConfigError(f"{path} has demonstrations format {version}, this version of "
                          f"subrational reads format {DEMO_FORMAT}; re-run the elicitation")
    return table.to_pandas()


def _mean_probs(frame: pd.DataFrame) -> dict[tuple[str, str], np.ndarray]:
    ok = frame[frame["status"] == "ok"]
    return {(str(p), str(s)): np.mean(np.stack([np.asarray(x, dtype=float) for x in g["probs"]]),
                                      axis=0)
            for (p, s), g in ok.groupby(["persona", "state"], sort=False)}


def targets(experiment: Experiment, frame: pd.DataFrame,
            personas: Mapping[str, Persona] | None = None) -> list[Target]:
    """Per persona x state target distributions (option orders averaged; failed cells dropped)."""
    personas = personas or experiment.personas
    return [Target(personas[p], experiment.state_from_dict(json.loads(s)), probs)
            for (p, s), probs in _mean_probs(frame).items()]


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

    The Jeffreys smoothing is inverted exactly; an ordinal game's KDE cannot be, so its stored
    texts are parsed again.
    """
    k = len(experiment.actions)
    n_ok = int(row.n_draws) - int(row.n_failed)
    raw = np.asarray(row.probs, dtype=float) * (n_ok + 0.5 * k) - 0.5
    counts = np.rint(raw)
    if (not experiment.ordinal_actions and np.allclose(raw, counts, atol=1e-6)
            and counts.min() >= 0 and counts.sum() == n_ok):
        return counts.astype(int)
    parsed = [parse_answer(t, experiment.actions) for t in json.loads(row.texts)]
    return np.bincount([p.option for p in parsed if p.option is not None], minlength=k)


class TablePolicy:
    """The LLM demonstrations as a policy: a lookup of the averaged distribution per cell.

    Cells with no valid answer return the uniform distribution (and are counted as failures).
    """

    def __init__(self, experiment: Experiment, frame: pd.DataFrame) -> None:
        self.n_actions = len(experiment.actions)
        self.table = _mean_probs(frame)
        ok = frame[frame["status"] == "ok"]
        self._rows: dict[str, list[tuple[Any, np.ndarray]]] = {}
        self._draws: dict[str, list[ObservedRow]] = {}
        for row in ok.itertuples(index=False):
            state = experiment.state_from_dict(json.loads(row.state))
            probs = np.asarray(row.probs, dtype=float)
            self._rows.setdefault(str(row.persona), []).append((state, probs))
            counts = (_counts(experiment, row) if row.method == "sample" else None)
            self._draws.setdefault(str(row.persona), []).append(
                ObservedRow(state, probs, f"{row.paraphrase}|{row.variant}", counts))

    def observed(self, state: Any, persona: Persona) -> bool:
        """Whether the LLM answered in this cell (sampled episodes may never reach a state)."""
        return (persona.name, state_key(state)) in self.table

    def rows(self, persona: Persona) -> list[tuple[Any, np.ndarray]]:
        """Every answered row of ``persona`` (each wording and option order): (state, probs).

        Structural fits resample these rows, so their intervals carry the wording and order
        effects, not only the state grid.
        """
        return self._rows.get(persona.name, [])

    def observed_rows(self, persona: Persona) -> list[ObservedRow]:
        """Every answered row of ``persona`` with its wording x order block.

        Sampled answers carry the raw counts of parsed draws per action, which structural fits
        use for a binomial likelihood and to resample the draws.
        """
        return self._draws.get(persona.name, [])

    def action_probs(self, state: Any, persona: Persona) -> np.ndarray:
        """Averaged LLM distribution for this persona and state."""
        probs = self.table.get((persona.name, state_key(state)))
        return probs if probs is not None else np.full(self.n_actions, 1.0 / self.n_actions)


def _spread(values: pd.Series, by: list[pd.Series]) -> pd.Series:
    return values.groupby(by).agg(lambda v: v.max() - v.min())


def diagnostics(frame: pd.DataFrame) -> dict[str, Any]:
    """Option mass, order and wording effects, parse failures and failed cells.

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
    return out
