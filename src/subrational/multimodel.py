"""Several models under one plan: ``subrational run --model A --model B ...``.

Each model is elicited as its own, ordinary run: ``<out>/<slug of model>/`` holds a normal run
directory (manifest, summary, report; resumable on its own, readable by ``compare``). The models
share nothing but the plan: the same studies, personas, wordings, seed and settings, one
:class:`~subrational.config.RunConfig` each that differs only in ``model`` (and ``out``). After
the last one, ``<out>/report.html`` puts them side by side: the comparison page of
:mod:`~subrational.reporting.compare` with a leaderboard per study
(:mod:`~subrational.reporting.leaderboard`).

Everything is checked for every model before the first call (:func:`check_models`): a bad model
string, a missing key, a model file that is not there or a spending limit without a price is
one line, and nothing is created. A sub-run that stops (spending limit, Ctrl-C, a server that
kept failing) stops the whole command; running it again resumes: finished sub-runs are rebuilt
from the cache and only what is missing is asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .config import RunConfig
from .errors import ConfigError, RunDirError
from .pipeline import Progress, RunResult

__all__ = ["model_slug", "check_models", "new_models_dir", "run_models", "ModelsResult",
           "describe_leaderboards"]


def model_slug(model: str) -> str:
    """The folder name of a model's sub-run: ``openai:gpt-4o`` -> ``openai-gpt-4o``.

    >>> model_slug("transformers:/models/Qwen2.5-0.5B.gguf")
    'transformers-models-Qwen2.5-0.5B.gguf'
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-.")
    return slug or "model"


def check_models(configs: Sequence[RunConfig]) -> None:
    """Check every model's config as a run would, before any call or folder is made.

    Raises:
        ConfigError: Two models share a folder (the same model given twice), or any check of
            :func:`subrational.pipeline.run` fails for one of them (unknown name, missing
            key or model file, ``--max-cost`` without a price).
    """
    from .accounting import check_max_cost, price_for
    from .factors import check_factors
    from .pipeline import build_backend, check_personas, check_plan, resolve_experiments

    slugs: dict[str, str] = {}
    for config in configs:
        slug = model_slug(config.model)
        if slug in slugs:
            raise ConfigError(f"--model {config.model!r} and --model {slugs[slug]!r} would share "
                              f"the folder {slug!r}; give each model once")
        slugs[slug] = config.model
    for config in configs:
        experiments = resolve_experiments(config)
        check_personas(experiments, config.personas)
        check_plan(experiments, config)
        check_factors(experiments, config)
        backend = build_backend(config)
        try:
            check_max_cost(config.max_cost, backend, price_for(backend, config.prices))
        finally:
            backend.close()


def new_models_dir(root: Path) -> Path:
    """Create and return a new, empty ``root/<YYYYmmdd-HHMMSS>-models`` folder."""
    from .rundir import new_run_dir

    return new_run_dir(root, label="models")


@dataclass(frozen=True)
class ModelsResult:
    """What a several-model run wrote.

    Attributes:
        out: The folder of the sub-runs and of ``report.html``.
        report: The side-by-side page.
        results: One finished run per model, in the order of the ``--model`` flags.
    """

    out: Path
    report: Path
    results: tuple[RunResult, ...]


def run_models(configs: Sequence[RunConfig], *, out: Path,
               progress: Progress | None = None,
               on_done: Callable[[RunResult], object] | None = None) -> ModelsResult:
    """Run each config into ``out/<slug of its model>/``, then write ``out/report.html``.

    Args:
        configs: One config per model, checked by :func:`check_models`.
        out: The folder of the sub-runs; a folder that is itself one run is refused.
        progress: Told of each sub-run's calls, labelled with its model.
        on_done: Called with each finished sub-run (the CLI prints its summary).

    Returns:
        The sub-runs and the page.
    """
    from .pipeline import run
    from .reporting.compare import write_comparison
    from .rundir import COMPLETE, STARTED

    if (out / STARTED).exists() or (out / COMPLETE).exists():
        raise RunDirError(f"--out {out} holds one run, not runs of several models; give "
                          "another directory")
    results = []
    for config in configs:
        sub = out / model_slug(config.model)
        result = run(config.model_copy(update={"out": sub}), out=sub,
                     progress=_labelled(progress, config.model))
        if on_done:
            on_done(result)
        results.append(result)
    report = write_comparison([r.out for r in results], out / "report.html", leaderboard=True)
    return ModelsResult(out=out, report=report, results=tuple(results))


def _labelled(progress: Progress | None, model: str) -> Progress | None:
    if progress is None:
        return None
    report = progress

    def update(done: int, total: int, label: str) -> None:
        report(done, total, f"{label} of {model}")

    return update


def describe_leaderboards(results: Sequence[RunResult]) -> list[str]:
    """One line per study for the terminal: the models ranked, with distance and verdict."""
    from .reporting.leaderboard import leaderboards

    lines = []
    for board in leaderboards([r.summary for r in results]):
        ranked = []
        for row in board.rows:
            shown = "no distance" if row.distance is None else f"{row.distance:.3f}" + (
                f" [{row.interval[0]:.3f}, {row.interval[1]:.3f}]" if row.interval else "")
            ranked.append(f"{row.rank or '-'}. {row.model} {shown} ({row.verdict})")
        lines.append(f"{board.study} leaderboard (distance to humans): {'; '.join(ranked)}")
    return lines
