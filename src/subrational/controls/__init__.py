"""Controls that separate simulation from recall (``subrational run --controls``).

Four conditions per study, each next to the run's own answers with an interval:

* *no persona* and *a rational economist*: the default personas with their text replaced
  (:mod:`.personas`);
* *placebo traits*: the personas at the ends of the real axis with a sentence that should not
  matter; a placebo that moves behaviour as much as the real trait is flagged *stereotyping*;
* *a disguised framing*: for a study whose constructor takes ``framing``, the same personas
  and states under ``framing="disguised"`` (same payoffs, renamed story, no textbook cues):
  behaviour that survives is evidence of simulation, behaviour that vanishes of recall;
* *a recall probe*: what the model says the classic study found, next to the human value and
  its own simulated value (:mod:`.recall`).

One number per study is compared (:mod:`.headline`); the decision rules are in
:mod:`.assess`. The pipeline calls :func:`run_controls`; the plan counts the same calls with
:func:`elicit_controls`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..cache import CachedBackend
from ..errors import ConfigError
from ..experiments import Experiment, Persona
from .assess import HOW_TO_RUN, assess_controls, not_run, run_summary, verdict_of
from .conditions import DISGUISED, ControlRun, elicit_controls, store
from .headline import HEADLINES, headline
from .recall import DRAWS, PROBES, parse_percent

__all__ = ["run_controls", "check_controls", "elicit_controls", "not_run", "run_summary",
           "verdict_of",
           "HOW_TO_RUN", "HEADLINES", "headline", "PROBES", "parse_percent"]


def check_controls(experiments: Sequence[Experiment], config: Any) -> int:
    """Refuse, in one line, settings the controls cannot be run with (before any call).

    A study option ``framing`` would make the run's own framing the disguised one, and a study
    asked with one persona has no real trait to set a placebo against. Returns the model
    requests the controls plan (0 without ``--controls``; an upper bound for a sequential
    study sampled, as :func:`~subrational.elicitation.plan_size` is).
    """
    if not config.controls:
        return 0
    total = 0
    for experiment in experiments:
        if "framing" in experiment.options:
            raise ConfigError(f"--controls compares the standard framing with the disguised "
                              f"one; drop --option {experiment.name}.framing="
                              f"{experiment.options['framing']}")
        own = [n for n in config.personas if n in experiment.personas]
        if len(own or list(experiment.default_personas)) < 2:
            raise ConfigError(f"--controls needs at least two personas of {experiment.name} to "
                              "set the placebo traits against a real one; give another "
                              "--persona or leave --persona out")
        total += _planned(experiment, [experiment.persona(n) for n in
                                       (own or list(experiment.default_personas))], config)
    return total


def _planned(experiment: Experiment, personas: list[Persona], config: Any) -> int:
    from ..elicitation import plan_size
    from .conditions import has_disguise
    from .personas import control_personas, placebo_personas

    asked = [*control_personas(experiment, personas, "no-persona"),
             *control_personas(experiment, personas, "economist"),
             *placebo_personas(experiment, personas).values(),
             *(personas if has_disguise(experiment) else [])]
    probes = sum(p.study == experiment.name for p in PROBES) * DRAWS
    return probes + plan_size(experiment, asked, method=config.method, samples=config.samples,
                              paraphrases=config.paraphrases)


def _findings(run: ControlRun, config: Any, standard: Sequence[Any]) -> list[dict[str, Any]]:
    """Which of the demonstrations' findings hold in the standard and the disguised framing."""
    from ..demonstrations import TablePolicy, to_frame
    from ..evaluation.behaviour import EvalSettings
    from ..evaluation.generic import assess_study
    from ..evaluation.records import DEMONSTRATIONS, POLICY
    from ..experiments import study

    cond = run.conditions[DISGUISED]
    game = cond.experiment
    table = TablePolicy(game, to_frame(game, cond.rows, {}))
    analysis = assess_study(game, {DEMONSTRATIONS: table, POLICY: table, **game.baselines()},
                            cond.personas, study=study(game.id), n_boot=config.bootstrap,
                            settings=EvalSettings(episodes=config.episodes, seed=config.seed),
                            seed=config.seed)
    disguised = {f.claim: f.reproduced for f in analysis.findings if f.source == DEMONSTRATIONS}
    return [{"claim": f.claim, "standard": f.reproduced, "disguised": disguised.get(f.claim)}
            for f in standard if f.source == DEMONSTRATIONS]


def run_controls(experiment: Experiment, personas: Sequence[Persona], cached: CachedBackend,
                 config: Any, *, method: str, rows: Sequence[Any], folder: Path,
                 findings: Sequence[Any], metrics: Mapping[str, Any],
                 provenance: Mapping[str, Any]) -> dict[str, Any]:
    """Ask, store and assess every control of one study: its ``controls`` block."""
    run = elicit_controls(experiment, personas, cached, config, method)
    store(run, folder / "controls", dict(provenance))
    block = assess_controls(run, experiment, personas, rows, metrics=metrics,
                            n_boot=config.bootstrap, seed=config.seed)
    if run.disguise_available:
        try:
            block["disguise"]["findings"] = _findings(run, config, findings)
        except Exception as exc:  # noqa: BLE001 - the comparison is extra; say why it is absent
            first = str(exc).splitlines()[0] if str(exc) else ""
            block["disguise"]["findings_note"] = (f"findings not compared: "
                                                  f"{type(exc).__name__}: {first}")
    return block
