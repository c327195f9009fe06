"""The methods paragraph of a run, ready to paste into a paper (``methods.md``, and the report).

It is written from what the run stored, never from defaults: the model's fingerprint and what
the server said answered (``manifest.json``), the method, personas, grid, wordings and option
orders each study was asked in, the calls and tokens, and the estimator and intervals as
``summary.json`` records them (each finding's resampling scheme and number of replicates, each
fit's likelihood). The wording of the statistics follows
:mod:`subrational.evaluation.uncertainty` and :mod:`subrational.evaluation.scorecard`:
percentile intervals from a bootstrap over what the LLM produced, claims decided by a bootstrap
p-value with Holm's correction, level checks that pass unless they fail with 95 % confidence,
and a learned policy judged on its point estimates. Nothing is claimed that the run did not do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..elicitation.elicit import wordings
from ..evaluation.records import DEMONSTRATIONS
from ..experiments.core import Experiment

__all__ = ["methods_paragraph", "study_personas"]


def _factors(config: Mapping[str, Any]) -> str:
    """A sentence on the optional design factors (``--factor``), or nothing."""
    chosen = list(config.get("factors") or [])
    if not chosen:
        return ""
    levels = {"temperature": "temperature 0.5 vs 1.0", "reasoning": "a one-word answer vs "
              "thinking first", "placement": "the persona in the system vs the user message"}
    return (" As design factors, " + "; ".join(levels[f] for f in chosen) + " were crossed "
            "with each other over the personas, states, the first wording and every option "
            "orders, and each one's share of the variance of logit P(first action) estimated "
            "as omega squared with a wild-bootstrap interval.")


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _join(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _model(manifest: Mapping[str, Any], summary: Mapping[str, Any]) -> str:
    """The model as typed, its fingerprint, and who the server said answered."""
    fingerprint = manifest.get("model") or {}
    extra = [f"{k} {v}" for k, v in fingerprint.items() if k not in ("backend", "model") and v]
    text = str(summary.get("model", ""))
    if extra:
        text += f" ({'; '.join(extra)})"
    backend = manifest.get("backend") or {}
    answered = backend.get("answered_by") or {}
    if answered:
        text += ", answered by " + ", ".join(f"{name} ({_count(n, 'call')})"
                                           for name, n in answered.items())
    fingerprints = backend.get("system_fingerprints") or {}
    if fingerprints:
        text += "; system fingerprints " + ", ".join(fingerprints)
    return text


def study_personas(experiment: Experiment, config: Mapping[str, Any]) -> list[str]:
    """The names of the personas a run with ``config`` asked ``experiment`` about."""
    # The run's rule (pipeline.select_personas): the --persona names that are this study's own.
    own = [n for n in config.get("personas") or [] if n in experiment.personas]
    return own or list(experiment.default_personas)


def _study(experiment: Experiment, data: Mapping[str, Any], config: Mapping[str, Any]) -> str:
    personas = study_personas(experiment, config)
    states = len(experiment.states())
    pairs = wordings(experiment, config.get("paraphrases"))
    n_wordings = len({k for k, _ in pairs})
    n_orders = len({order for _, order in pairs})
    return (f"{data['title']} ({experiment.id}, method {data['method']}): "
            f"{_count(len(personas), 'persona')} ({', '.join(personas)}) x "
            f"{_count(states, 'state')} x {_count(n_wordings, 'wording')} x "
            f"{_count(n_orders, 'option order')}")


def _elicitation(methods: set[str], config: Mapping[str, Any]) -> str:
    parts = []
    if "choice-probs" in methods:
        parts.append("Under choice-probs the probability of each answer option was read from "
                     "the model's next-token distribution after the question (a one-word answer, "
                     "no chain of thought), normalised over the options, and averaged over "
                     "wordings and option orders; the probability mass on the options before "
                     "normalising is reported as option mass.")
    if "sample" in methods:
        parts.append(f"Under sample the model wrote {config.get('samples')} answers per prompt "
                     f"at temperature {config.get('temperature')} (at most "
                     f"{config.get('max_tokens')} tokens): two or three sentences in the "
                     "person's voice, then a final answer line, read by a strict parser "
                     "(unparseable answers were counted, never guessed); per-state distributions "
                     f"are the pooled frequencies ({config.get('smoothing')} smoothing).")
    return " ".join(parts)


def _scheme(summary: Mapping[str, Any]) -> tuple[str, str]:
    """The resampling schemes and the numbers of replicates behind the findings."""
    schemes, replicates = [], set()
    for exp in summary["experiments"].values():
        for f in exp.get("findings", []):
            if f.get("source") == DEMONSTRATIONS and f.get("resampled"):
                schemes.append(str(f["resampled"]))
                replicates.add(int(f.get("n_boot") or 0))
    low, high = min(replicates, default=0), max(replicates, default=0)
    count = str(low) if low == high else (
        f"{low} to {high} (per study at least 2m / 0.05 for its m claims, so that Holm's "
        "correction can confirm any)")
    return _join(list(dict.fromkeys(schemes)) or ["none"]), count


def _calls(manifest: Mapping[str, Any]) -> str:
    calls = manifest.get("calls") or {}
    total = (manifest.get("cost") or {}).get("total") or {}
    made = total.get("when_made") or {}
    made_now, hits = int(calls.get("model_calls", 0)), int(calls.get("cache_hits", 0))
    text = (f"The run used {_count(made_now + hits, 'answer')} ({_count(made_now, 'model call')} "
            f"made by this run, {hits:,} answered from the cache)")
    if made:
        text += (f", {int(made.get('input_tokens', 0)):,} input and "
                 f"{int(made.get('output_tokens', 0)):,} output tokens")
    return text + "."


def _analysis(summary: Mapping[str, Any]) -> str:
    likelihoods = list(dict.fromkeys(f["likelihood"] for exp in summary["experiments"].values()
                                     for f in exp.get("fits", []) if f.get("likelihood")))
    exact = any(_has_exact(exp.get("metrics", {})) for exp in summary["experiments"].values())
    text = ""
    if exact:
        text += ("Behaviour statistics of sequential games were computed exactly, listing every "
                 "episode a policy can play with its probability. ")
    if likelihoods:
        text += f"Structural models were fitted by {'; '.join(likelihoods)}. "
    return text


def _has_exact(node: Any) -> bool:
    if isinstance(node, Mapping):
        return node.get("episodes_from") == "exact" or any(_has_exact(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_exact(v) for v in node)
    return False


def methods_paragraph(experiments: Sequence[Experiment], summary: Mapping[str, Any],
                      manifest: Mapping[str, Any]) -> str:
    """The run's methods as Markdown (one paragraph per topic), citing by author and year."""
    config = manifest.get("config") or {}
    by_id = {e.id: e for e in experiments}
    studies = [_study(by_id[sid], data, config) for sid, data in summary["experiments"].items()
               if sid in by_id]
    methods = {data["method"] for data in summary["experiments"].values()}
    schemes, replicates = _scheme(summary)
    training = next(iter(summary["experiments"].values()), {}).get("training", {})
    seeds = training.get("seeds") or {}
    paper = any(data.get("from_paper", True) for data in summary["experiments"].values())
    opening = ("Following Coletta et al. (2024), we asked" if paper else "We asked")
    elicited = (f"{opening} the language model {_model(manifest, summary)} to impersonate people "
                f"in {_count(len(studies), 'decision problem')}: " + "; ".join(studies) + ". "
                "Each persona x state was rendered as a system message (the story and the "
                "persona) and a user message (the situation and the question), in every "
                "wording and option order listed (prompt version "
                f"{manifest.get('prompt_version')}). "
                + _elicitation(methods, config) + _factors(config) + " " + _calls(manifest))
    learning = ("The per-state action distributions of the demonstrations were the targets of "
                "one persona-conditioned policy per study (a multilayer perceptron with two "
                f"hidden layers, loss {config.get('loss')}), trained by imitation. "
                + _analysis(summary))
    uncertainty = (
        "Every statistic of the LLM's answers carries a 95 % percentile interval from "
        f"{replicates} bootstrap replicates of what the LLM produced, resampling {schemes}, "
        "with the study's whole analysis re-run on each replicate. A claim (a claim of the "
        "paper, or a direction over personas or states) was confirmed when its bootstrap "
        "p-value, (1 + replicates in which it fails) / (1 + replicates), was at most 0.05 after "
        "Holm's (1979) correction over the study's claims, refuted when it held in at most 5 % "
        "of the replicates, and undecided otherwise; a level check against a human band or a "
        "threshold of our own design passed unless it failed with 95 % confidence. A study "
        "was judged human-like when every claim was confirmed, at least three quarters of the "
        "other checks passed, and neither the wording nor the option order moved the answers "
        "more than the situation did. The learned policy has no sampling error: its checks "
        "were decided on point estimates, as a check of the imitation, not as evidence about "
        "the LLM.")
    seeds_text = f"Run seed {summary.get('seed', config.get('seed'))}"
    if seeds.get("tried"):
        held = "held-out cells" if training.get("validation") else "the training loss"
        seeds_text += (f"; each policy was trained from {_count(len(seeds['tried']), 'seed')} "
                       f"derived from it (Adam, full batch, early stopping on {held}), keeping "
                       "the one with the lowest stopping loss among those within "
                       f"{training.get('plateau_bound')} total variation of every target")
    reproduce = (f"{seeds_text}. Software: subrational {manifest.get('subrational')}, Python "
                 f"{manifest.get('python')}, PyTorch {manifest.get('torch')}.")
    return "\n\n".join([elicited, learning.strip(), uncertainty, reproduce]) + "\n"
