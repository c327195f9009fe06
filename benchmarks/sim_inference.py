"""Known-truth pass rates of the verdicts: nulls (false positives) and the human-identical truth.

    PYTHONPATH=src .venv/bin/python benchmarks/sim_inference.py [--seeds 40]
        [--studies ultimatum marshmallow double_or_nothing procrastination] [--samples 10]
        [--out FILE]

For every study, three scripted LLMs with a known answer (``tests/inference_sim.py``): the
human-identical responder, a persona-blind one (no persona effect at all) and a state-blind one
(no state effect at all), each elicited with the sample method (``--samples`` draws per cell)
and with choice-probs (exact probabilities: no draw noise, only the rollouts of the analysis
vary with the seed). Each seed elicits anew and analyses with the same seed, as one
``subrational run --seed S`` would. A cell is the share of seeds in which the demonstrations
reproduce a finding, with its 95 % Wilson interval over the seeds; "n/a" is the share of seeds
in which it was undefined. A persona-blind or state-blind pass of a finding marked as its null's
("null for") is a false positive; the others show what the null does to the remaining checks.
The analysis (``--analysis``) is by default the one ``subrational run`` makes: each check on its
bootstrap interval (``inference_sim.assess_bootstrap``); ``point`` decides on point estimates,
the demonstrations also standing in for the learned policy (the analysis before the bootstrap
asked both sources, and no policy is trained here).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from inference_sim import RESPONDERS, STUDIES, assess, assess_bootstrap, pass_rates  # noqa: E402

METHODS = ("sample", "choice-probs")
NULLS = ("persona-blind", "state-blind")


def _cell(f: dict | None, *, null: bool = False) -> str:
    if f is None:
        return "-"
    if f["not_assessed"] == 1:
        return "n/a 1.00"
    lo, hi = f["reproduced_interval"]
    share = f"**{f['reproduced']:.2f}**" if null else f"{f['reproduced']:.2f}"
    na = f" (n/a {f['not_assessed']:.2f})" if f["not_assessed"] else ""
    return f"{share} [{lo:.2f}, {hi:.2f}]{na}"


def _verdicts(r: dict) -> str:
    return ", ".join(f"{v} {share:.2f}" for v, share in r["verdicts"].items())


def _method(method: str, samples: int) -> str:
    return f"sample N={samples}" if method == "sample" else "choice-probs"


def _claims(results: dict) -> dict[str, dict]:
    claims: dict[str, dict] = {}
    for r in results.values():
        for claim, f in r["findings"].items():
            claims.setdefault(claim, f)
    return claims


def _null_table(study: str, results: dict, samples: int) -> list[str]:
    cols = [(k, m) for k in NULLS for m in METHODS]
    head = " | ".join(f"{k}, {_method(m, samples)}" for k, m in cols)
    lines = [f"### {study} ({results[cols[0]]['experiment']}): nulls", "",
             f"| finding | origin | null for | {head} |", "|" + "---|" * (3 + len(cols))]
    for claim, f in _claims(results).items():
        null_for = f["null_for"] or ""
        cells = [_cell(results[(k, m)]["findings"].get(claim),
                       null=bool(null_for) and k.startswith(null_for)) for k, m in cols]
        lines.append(f"| {claim} | {f['origin']} | {null_for} | {' | '.join(cells)} |")
    lines.append("| **verdict** | | | " + " | ".join(_verdicts(results[c]) for c in cols) + " |")
    return lines + [""]


def _human_table(study: str, results: dict, samples: int) -> list[str]:
    cols = [("human-identical", m) for m in METHODS]
    lines = [f"### {study} ({results[cols[0]]['experiment']}): human-identical", "",
             "| finding | origin | " + " | ".join(_method(m, samples) for _, m in cols) + " |",
             "|---|---|---|---|"]
    for claim, f in _claims({c: results[c] for c in cols}).items():
        cells = [_cell(results[c]["findings"].get(claim)) for c in cols]
        lines.append(f"| {claim} | {f['origin']} | {' | '.join(cells)} |")
    lines.append("| **verdict** | | " + " | ".join(_verdicts(results[c]) for c in cols) + " |")
    return lines + [""]


def _time_table(all_results: dict, samples: int) -> list[str]:
    lines = ["### Wall time per seed (elicit + analyse, one process)", "",
             "| study | responder | method | seconds per seed |", "|---|---|---|---|"]
    for study, results in all_results.items():
        for (kind, method), r in results.items():
            lines.append(f"| {study} | {kind} | {_method(method, samples)} | "
                         f"{r['seconds_per_seed']:.2f} |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40, help="seeds 0 .. N-1 per cell")
    parser.add_argument("--studies", nargs="+", default=list(STUDIES), choices=STUDIES)
    parser.add_argument("--samples", type=int, default=10, help="draws per cell (sample)")
    parser.add_argument("--out", type=Path, help="also write the tables to this file")
    parser.add_argument("--analysis", choices=("bootstrap", "point"), default="bootstrap",
                        help="bootstrap: each check decided on its interval over the LLM's "
                        "answers, as `subrational run` does (default); point: on the point "
                        "estimate, demonstrations standing in for the policy too (the analysis "
                        "before the bootstrap, for before/after tables)")
    args = parser.parse_args()
    analyse = assess_bootstrap if args.analysis == "bootstrap" else assess
    start = time.perf_counter()
    all_results: dict[str, dict] = {}
    for study in args.studies:
        results = {}
        for kind, make in RESPONDERS.items():
            for method in METHODS:
                results[(kind, method)] = pass_rates(study, make(study), method=method,
                                                     samples=args.samples, seeds=args.seeds,
                                                     analyse=analyse)
                print(f"[{time.perf_counter() - start:.0f} s] {study} {kind} {method}",
                      file=sys.stderr, flush=True)
        all_results[study] = results
    lines = [f"Known-truth pass rates, seeds 0..{args.seeds - 1} (n = {args.seeds} per cell); "
             "cell: share of seeds reproducing the finding [95 % Wilson interval]; **bold**: a "
             "false-positive rate (the null is the finding's null); n/a: share undefined. "
             + ("Analysis: each check decided on its 95 % bootstrap interval over the LLM's "
                "answers (200 replicates, Holm over claims), the verdict on the demonstrations "
                "only. " if args.analysis == "bootstrap" else
                "Analysis: point estimates (demonstrations passed as the policy too). ")
             + f"Total wall time {time.perf_counter() - start:.0f} s.", "",
             "## Null responders", ""]
    for study, results in all_results.items():
        lines += _null_table(study, results, args.samples)
    lines += ["## Human-identical responder", ""]
    for study, results in all_results.items():
        lines += _human_table(study, results, args.samples)
    lines += _time_table(all_results, args.samples)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
