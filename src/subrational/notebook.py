"""A run from Python: :func:`run` a study, :func:`load_run` any finished run, read tidy frames.

Both return a :class:`Run`: the run directory's ``summary.json`` and ``manifest.json`` as
pandas DataFrames, one row per observation and plain columns (a list of the file becomes
columns or rows, never a JSON string), so that ``run.findings.query("source == 'policy'")`` or
``run.curves.pivot(...)`` need no parsing:

* ``findings``: the claims (of the paper or of one's own study), one row per claim x source;
  ``bands``: the checks against human numbers and thresholds of our own design, likewise.
  Their interval is ``ci_low`` / ``ci_high``.
* ``scorecard``: one row per study, nested fields as dotted columns
  (``paper_findings.demonstrations.reproduced``).
* ``curves``: one row per point of every behaviour curve (``y_low`` / ``y_high`` NaN where a
  curve has no band).
* ``fits``: one row per structural estimate (study x model x source x persona x parameter).
* ``robustness``: one row per study x variance term, with its share and interval.
* ``demonstrations``: every row of the studies' ``demonstrations.parquet``, one column per
  state field and ``p_<action>`` per action probability (``logp_<action>``, ``n_<action>``
  likewise where present); the sampled texts, failures and episode steps decoded.
* ``calls``: one row per study: model calls, cache hits, tokens, cost (this run and when the
  answers were made) and seconds where the run recorded them (NaN otherwise).

:func:`run` takes the settings of ``subrational run`` as keywords (the :class:`RunConfig`
field names), validates them with the same one-line errors, and writes into a new
``runs/<time>-<studies>`` folder unless ``out`` is given, so runs never overwrite each other.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, SubrationalError, did_you_mean

if TYPE_CHECKING:
    import pandas as pd

    from .backends.base import Backend
    from .learning.policy import LearnedPolicy

__all__ = ["Run", "load_run", "run", "MANIFEST_FORMATS"]

MANIFEST_FORMATS = (1, 2)
"""``manifest.json`` versions read here (1 has no ``cost``: its ``calls`` frame is empty)."""

BAND_KINDS = ("human band", "design choice")
"""Finding kinds that go to :attr:`Run.bands`; every other kind is a claim
(:attr:`Run.findings`)."""


@dataclass(frozen=True)
class Run:
    """A finished run directory as tidy DataFrames (see the module docstring for each frame).

    Attributes:
        path: The run directory.
        summary: ``summary.json`` as read.
        manifest: ``manifest.json`` as read.
        findings: Claims, one row per study x claim x source.
        bands: Human-band and design-choice checks, one row per study x check x source.
        scorecard: One row per study.
        curves: One row per point of every behaviour curve.
        fits: One row per structural estimate.
        robustness: One row per study x variance term.
        demonstrations: One row per elicited cell (persona x state x wording x order).
        calls: One row per study: calls, cache hits, tokens, cost and seconds.
    """

    path: Path
    summary: dict[str, Any]
    manifest: dict[str, Any]
    findings: pd.DataFrame
    bands: pd.DataFrame
    scorecard: pd.DataFrame
    curves: pd.DataFrame
    fits: pd.DataFrame
    robustness: pd.DataFrame
    demonstrations: pd.DataFrame
    calls: pd.DataFrame

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, studies={self.studies})"

    @property
    def studies(self) -> list[str]:
        """The versioned ids of the run's studies, in run order."""
        return list(self.summary["experiments"])

    def policy(self, study: str) -> LearnedPolicy:
        """The learned policy of ``study`` (its id or short name), read from the run."""
        from .experiments.registry import split_id
        from .learning.policy import load_policy

        ids = {split_id(s)[0]: s for s in self.studies}
        vid = study if study in self.studies else ids.get(study)
        if vid is None:
            raise ConfigError(f"this run has no study {study!r}"
                              f"{did_you_mean(study, [*ids, *self.studies])}")
        block = self.summary["experiments"][vid].get("training", {})
        return load_policy(self.path / (block.get("policy_file")
                                        or f"{split_id(vid)[0]}/policy.pt"))


def load_run(path: str | Path) -> Run:
    """Read a finished run directory (``subrational run --out``) as a :class:`Run`.

    Raises:
        ConfigError: ``path`` is not a run directory, or a run of an older or newer format.
        RunDirError: The run is unfinished, damaged or mixed from two runs.
    """
    from .rundir import read_run

    path = Path(path)
    files = read_run(path)
    version = files.manifest.get("format_version")
    if version not in MANIFEST_FORMATS:
        raise ConfigError(f"{path}/manifest.json has format {version!r}; this subrational reads "
                          f"{', '.join(map(str, MANIFEST_FORMATS))}: use the version that wrote "
                          "it, or run it again")
    experiments = files.summary["experiments"]
    return Run(path=path, summary=files.summary, manifest=files.manifest,
               findings=_findings(experiments, bands=False),
               bands=_findings(experiments, bands=True), scorecard=_scorecard(experiments),
               curves=_curves(experiments), fits=_fits(experiments),
               robustness=_robustness(experiments),
               demonstrations=_demonstrations(path, experiments, files.manifest),
               calls=_calls(files.manifest))


def _frame(rows: Sequence[Mapping[Any, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame of ``rows``, with ``columns`` first (and present even when empty)."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    for column in columns:
        if column not in frame:
            frame[column] = pd.Series(dtype=object)
    return frame[[*columns, *(c for c in frame.columns if c not in columns)]]


def _pair(value: Any) -> tuple[Any, Any]:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return value[0], value[1]
    return None, None


def _finding_row(study: str, finding: Mapping[str, Any]) -> dict[str, Any]:
    row = {"study": study, **{k: v for k, v in finding.items()
                              if k not in ("interval", "failure_bound", "agreement")}}
    row["ci_low"], row["ci_high"] = _pair(finding.get("interval"))
    row["failure_low"], row["failure_high"] = _pair(finding.get("failure_bound"))
    for factor, counts in (finding.get("agreement") or {}).items():
        agree, n = _pair(counts)
        row[f"agreement_{factor}"] = agree / n if n else None
    return row


_FINDING_COLUMNS = ("study", "claim", "source", "statistic", "ci_low", "ci_high", "criterion",
                    "reproduced", "kind", "origin", "test", "outcome")


def _findings(experiments: Mapping[str, Any], *, bands: bool) -> pd.DataFrame:
    return _frame([_finding_row(sid, f) for sid, exp in experiments.items()
                   for f in exp.get("findings", []) if (f.get("kind") in BAND_KINDS) == bands],
                  _FINDING_COLUMNS)


def _scorecard(experiments: Mapping[str, Any]) -> pd.DataFrame:
    import pandas as pd

    rows = [{"study": sid, "title": exp.get("title"), **exp.get("scorecard", {})}
            for sid, exp in experiments.items()]
    return _frame(pd.json_normalize(rows, sep=".").to_dict("records") if rows else [],
                  ("study", "title", "verdict", "verdict_probability"))


def _curves(experiments: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for sid, exp in experiments.items():
        for curve in exp.get("curves", []):
            low, high = curve.get("y_low"), curve.get("y_high")
            for i, (x, y) in enumerate(zip(curve["x"], curve["y"], strict=True)):
                rows.append({"study": sid, **{k: curve.get(k, "") for k in
                                              ("panel", "source", "persona", "label")},
                             "x": x, "y": y, "y_low": low[i] if low else float("nan"),
                             "y_high": high[i] if high else float("nan"),
                             "xlabel": curve.get("xlabel", ""), "ylabel": curve.get("ylabel", "")})
    return _frame(rows, ("study", "panel", "source", "persona", "label", "x", "y", "y_low",
                         "y_high"))


def _fits(experiments: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for sid, exp in experiments.items():
        for fit in exp.get("fits", []):
            shared = {k: v for k, v in fit.items() if k != "estimates"}
            rows += [{"study": sid, **shared, "parameter": est.get("name"),
                      **{k: v for k, v in est.items() if k != "name"}}
                     for est in fit.get("estimates", [])]
    return _frame(rows, ("study", "model", "source", "persona", "parameter", "value", "ci_low",
                         "ci_high", "human_low", "human_high", "inside"))


def _robustness(experiments: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for sid, exp in experiments.items():
        robust = exp.get("robustness") or {}
        intervals = robust.get("intervals") or {}
        for term, share in (robust.get("variance_shares") or {}).items():
            low, high = _pair(intervals.get(term))
            rows.append({"study": sid, "term": term, "share": share, "ci_low": low,
                         "ci_high": high, "scale": robust.get("scale"),
                         "form_beats_state": bool(robust.get("form_beats_state")),
                         "n_rows": robust.get("n_rows")})
    return _frame(rows, ("study", "term", "share", "ci_low", "ci_high"))


def _calls(manifest: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for sid, block in ((manifest.get("cost") or {}).get("studies") or {}).items():
        this_run, made = block.get("this_run", {}), block.get("when_made", {})
        rows.append({"study": sid, "calls": block.get("calls"),
                     "cache_hits": block.get("cache_hits"),
                     **{k: v for k, v in this_run.items() if k != "cost_usd"},
                     "cost_usd": this_run.get("cost_usd"),
                     "cost_usd_when_made": made.get("cost_usd"),
                     "seconds": block.get("seconds", float("nan"))})
    return _frame(rows, ("study", "calls", "cache_hits", "input_tokens", "output_tokens",
                         "cost_usd", "seconds"))


def _slug(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_") or "action"


def _actions(experiment: str, version: int, manifest: Mapping[str, Any]) -> list[str] | None:
    """The action names of ``experiment-vN``: from the registry, after the run's imports."""
    from .experiments.registry import import_plugins, make

    vid = f"{experiment}-v{version}"
    options = (manifest.get("config") or {}).get("options", {}).get(experiment, {})
    for attempt in range(2):
        try:
            return list(make(vid, **options).actions)
        except SubrationalError:
            if attempt == 0:  # a game of one's own: import what the run imported
                with contextlib.suppress(SubrationalError):
                    import_plugins((manifest.get("config") or {}).get("imports", []))
    return None


def _spread(frame: pd.DataFrame, column: str, prefix: str, names: list[str]) -> None:
    """Replace list column ``column`` by ``<prefix>_<action>`` columns (where the lists fit)."""
    values = frame.pop(column)
    if not values.map(lambda v: v is not None and len(v) == len(names)).all():
        return
    for i, name in enumerate(names):
        frame[f"{prefix}_{name}"] = values.map(lambda v, i=i: v[i]).astype(float)


def _study_demonstrations(path: Path, manifest: Mapping[str, Any]) -> pd.DataFrame:
    import pandas as pd

    from .demonstrations import read_demonstrations

    frame = read_demonstrations(path)
    if frame.empty:
        return frame
    first = frame.iloc[0]
    actions = _actions(str(first["experiment"]), int(first["experiment_version"]), manifest)
    width = len(first["probs"])
    names = [_slug(a) for a in actions] if actions and len(actions) == width \
        else [str(i) for i in range(width)]
    states = pd.DataFrame([json.loads(s) for s in frame.pop("state")], index=frame.index)
    states.columns = [c if c not in frame else f"state_{c}" for c in states.columns]
    frame = pd.concat([frame, states], axis=1)
    _spread(frame, "probs", "p", names)
    _spread(frame, "logprobs", "logp", names)
    _spread(frame, "counts", "n", names)
    for column in ("failures", "texts", "episode_steps"):
        if column in frame:
            frame[column] = frame[column].map(json.loads)
    frame.insert(0, "study", f"{first['experiment']}-v{int(first['experiment_version'])}")
    return frame


def _demonstrations(path: Path, experiments: Mapping[str, Any],
                    manifest: Mapping[str, Any]) -> pd.DataFrame:
    import pandas as pd

    from .experiments.registry import split_id

    frames = [_study_demonstrations(file, manifest) for sid in experiments
              if (file := path / split_id(sid)[0] / "demonstrations.parquet").is_file()]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else _frame([], ("study", "persona"))


Progress = Callable[[int, int, str], None]

_ALIASES = {"persona": "personas", "concurrency": "max_concurrency", "import_": "imports",
            "experiment": "experiments"}
"""Keywords that may be spelt like their CLI flag (``persona=`` for ``--persona``)."""


def _values(experiments: Sequence[str], settings: Mapping[str, Any]) -> dict[str, Any]:
    """``run()``'s arguments as :class:`RunConfig` values (a string where a list is taken)."""
    from .config import RunConfig

    values: dict[str, Any] = {}
    for key, value in settings.items():
        field = _ALIASES.get(key, key)
        if field not in RunConfig.model_fields:
            raise ConfigError(f"subrational.run() takes no setting {key!r}"
                              f"{did_you_mean(key, [*RunConfig.model_fields, 'config'])}")
        if field in ("personas", "experiments", "imports") and isinstance(value, str):
            value = [value]
        values[field] = value
    if experiments:
        values["experiments"] = [*experiments, *values.get("experiments", [])]
    return values


def run(*experiments: str, config: str | Path | None = None, backend: Backend | None = None,
        progress: Progress | None = None, **settings: Any) -> Run:
    """Run the pipeline like ``subrational run`` and return the finished run as a :class:`Run`.

    Args:
        *experiments: Studies to run (names or versioned ids; all registered ones when none).
        config: A TOML file of settings, as ``--config`` (keywords override it).
        backend: A backend object to use instead of the one ``model`` names (tests, a
            scripted model with a known truth).
        progress: ``progress(done, total, label)``, called as model calls finish.
        **settings: :class:`~subrational.config.RunConfig` fields (``model``, ``personas``,
            ``seed``, ``options``, ``out``, ...); ``persona`` and ``concurrency`` as the flags.
            Without ``out`` the run goes to a new ``runs/<time>-<studies>`` folder.

    Raises:
        SubrationalError: The one-line errors of the CLI (an unknown name, a value out of
            range, a missing key or model file, an occupied ``out``, ...).
    """
    from .config import build_config, read_config_file
    from .pipeline import check_personas, check_plan, resolve_experiments
    from .pipeline import run as run_pipeline

    values = _values(experiments, settings)
    file_values = read_config_file(Path(config)) if config is not None else {}
    merged = {**file_values, **values}
    source = str(config) if config is not None else "subrational.run()"
    cfg = build_config(merged, source=source, file_keys=set(merged))
    chosen = resolve_experiments(cfg)
    check_personas(chosen, cfg.personas)  # fail before any folder is made
    check_plan(chosen, cfg)
    fresh = "out" not in merged
    if fresh:
        out = _new_dir(Path("runs").absolute(), [e.name for e in chosen])
        cfg = cfg.model_copy(update={"out": out})
    try:
        result = run_pipeline(cfg, out=cfg.out, progress=progress, backend=backend)
    except SubrationalError:
        if fresh:  # a refused run leaves no empty runs/<time>-*/ behind
            with contextlib.suppress(OSError):
                cfg.out.rmdir()
        raise
    return load_run(result.out)


def _new_dir(root: Path, names: Sequence[str]) -> Path:
    """A new ``root/<YYYY-mm-ddTHHMMSS>-<studies>`` folder (``-2``, ``-3``, ... if taken)."""
    from .rundir import new_run_dir

    label = "+".join(names) if len(names) <= 3 else f"{len(names)}-studies"
    return new_run_dir(root, label=label, stamp="%Y-%m-%dT%H%M%S", flag="out=")
