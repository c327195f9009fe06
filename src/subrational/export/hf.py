"""Export a run as a Hugging Face dataset folder: Parquet files and a dataset card.

``OUT`` is what ``huggingface-cli upload`` (or ``datasets.load_dataset(OUT, CONFIG)``) takes:

* ``data/<experiment id>/demonstrations.parquet``: the run's demonstrations table, as written
  (one row per persona x state x wording x option order; columns in
  :mod:`subrational.demonstrations.table`);
* ``data/<experiment id>/episodes.parquet``: one row per decision of the exported episodes of
  the demonstrations and of the learned policy (``source``, ``episode``, ``persona``, ``step``,
  ``state``, ``obs``, ``action``, ``action_name``, ``reward``, ``terminated``, ``truncated``,
  ``probs``);
* ``README.md``: the dataset card, with a ``configs`` block naming each file, the model, the
  method, the prompt version, every persona's text, and the statement that the data are
  synthetic, made by a language model, not by people.

Only pyarrow (a core dependency) writes these files: the ``datasets`` package reads them but is
not needed to make them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..paths import ensure_dir, write_text_atomic
from .episodes import EpisodeSet
from .run import SOURCES, FinishedRun, StudyRun

__all__ = ["SYNTHETIC_STATEMENT", "export_hf", "dataset_card", "episodes_table"]

PAPER = "https://arxiv.org/abs/2402.08755"
SYNTHETIC_STATEMENT = ("**Synthetic, not human data.** Every answer in this dataset was written "
                       "by a language model asked to act as a persona; no person took part. It "
                       "records what the model says such people would do, which may differ "
                       "from what people do (see the run's findings). Do not use it as, or in "
                       "place of, human-subject data.")


def episodes_table(study: StudyRun, sets: list[EpisodeSet]) -> pa.Table:
    """One row per decision of every episode in ``sets``."""
    actions = list(study.experiment.actions)
    rows: dict[str, list[Any]] = {k: [] for k in (
        "source", "episode", "persona", "step", "state", "obs", "action", "action_name",
        "reward", "terminated", "truncated", "probs")}
    for played in sets:
        for index, episode in enumerate(played.episodes):
            for t, action in enumerate(episode.actions):
                for key, value in (("source", played.source), ("episode", index),
                                   ("persona", episode.persona), ("step", t),
                                   ("state", episode.states[t]),
                                   ("obs", [float(x) for x in episode.observations[t]]),
                                   ("action", int(action)), ("action_name", actions[action]),
                                   ("reward", float(episode.rewards[t])),
                                   ("terminated", bool(episode.terminations[t])),
                                   ("truncated", bool(episode.truncations[t])),
                                   ("probs", [float(p) for p in episode.probs[t]])):
                    rows[key].append(value)
    return pa.table(rows)


def _yaml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML string


def dataset_card(run: FinishedRun, counts: dict[str, dict[str, int]]) -> str:
    """The ``README.md`` of the folder (module docstring); ``counts``: rows per file."""
    model = str(run.summary.get("model", "unknown"))
    prompt = str(run.manifest.get("prompt_version", "unknown"))
    configs = []
    for study in run.studies:
        for part in ("demonstrations", "episodes"):
            configs += [f"- config_name: {_yaml(f'{study.experiment.id}-{part}')}",
                        f"  data_files: {_yaml(f'data/{study.experiment.id}/{part}.parquet')}"]
    lines = ["---", f"pretty_name: {_yaml(f'subrational synthetic demonstrations ({model})')}",
             "license: other", "tags:", "- synthetic", "- llm-generated", "- imitation-learning",
             "- behavioural-economics", "configs:", *configs, "---", "",
             f"# Synthetic persona demonstrations from {model}", "", SYNTHETIC_STATEMENT, "",
             "## How they were made", "",
             f"- **Model:** `{model}` (fingerprint: `{json.dumps(run.manifest.get('model'))}`)",
             f"- **Method:** {run.summary.get('method', 'unknown')} (per study below)",
             f"- **Prompt version:** {prompt}",
             f"- **Seed:** {run.summary.get('seed', 'unknown')}",
             f"- **Made by:** subrational {run.manifest.get('subrational', '?')}, after "
             f"Coletta et al. 2024, [arXiv 2402.08755]({PAPER}): persona-conditioned LLM "
             "demonstrations, imitation learning, comparison with human studies.",
             "- **Episodes:** rolled out in each study's Gymnasium environment by the "
             "demonstrations (the LLM's answers as a lookup table) and by the policy network "
             "trained on them; `probs` is the exact distribution each action was drawn from.",
             "- **Licence:** the model's terms of use apply to its outputs; check them before "
             "you share this dataset.", ""]
    for study in run.studies:
        lines += _study_section(study, counts.get(study.experiment.id, {}))
    lines += ["## Citation", "", "Coletta, A., Dwarakanath, K., Liu, P., Vyetrenko, S. and "
              "Balch, T. (2024). LLM-driven imitation of subrational behavior: illusion or "
              f"reality? {PAPER}", ""]
    return "\n".join(lines)


def _study_section(study: StudyRun, counts: dict[str, int]) -> list[str]:
    exp = study.experiment
    lines = [f"## {exp.title} (`{exp.id}`)", "",
             f"Method: {study.method}. Actions: {', '.join(exp.actions)}. "
             f"Rows: {counts.get('demonstrations', 0)} demonstrations, "
             f"{counts.get('episodes', 0)} episode steps.", "",
             "| persona | kind | text |", "|---|---|---|"]
    for persona in study.personas:
        text = persona.text.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{persona.name}` | {persona.kind} | {text} |")
    return [*lines, ""]


def export_hf(run: FinishedRun, out: Path, *, episodes: int, seed: int) -> list[Path]:
    """Write the folder (module docstring) into ``out``; returns the files written."""
    written: list[Path] = []
    counts: dict[str, dict[str, int]] = {}
    for study in run.studies:
        folder = ensure_dir(out / "data" / study.experiment.id, what="the export folder")
        demos = folder / "demonstrations.parquet"
        shutil.copyfile(run.path / study.experiment.name / "demonstrations.parquet", demos)
        table = episodes_table(study, [study.episodes(s, episodes=episodes, seed=seed)
                                       for s in SOURCES])
        pq.write_table(table, folder / "episodes.parquet")
        counts[study.experiment.id] = {"demonstrations": len(study.frame),
                                       "episodes": table.num_rows}
        written += [demos, folder / "episodes.parquet"]
    written.append(write_text_atomic(out / "README.md", dataset_card(run, counts),
                                     what="the dataset card"))
    return written
