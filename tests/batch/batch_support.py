"""Helpers of the batch tests: a people-like fake model, the batch cycle, findings to compare."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from scipy.special import expit

from subrational.cli import main

SMALL = ["--paraphrases", "1", "--episodes", "300", "--bootstrap", "20", "--no-progress"]


def _number(pattern: str, text: str) -> float:
    return float(re.search(pattern, text).group(1).replace(",", ""))


def people(messages: list[dict[str, Any]]) -> dict[str, float]:
    """Answers the ultimatum and the marshmallow test (version 1: it reads the minutes waited)
    as people do; 3 % unparseable ("I")."""
    system, user = messages[0]["content"], messages[-1]["content"]
    if "marshmallow" in system:
        age = _number(r"a (\d+)-year-old", system)
        minute = 0.0 if "just left" in user else _number(r"waiting for (\d+) minute", user)
        p, options = float(expit(3.0 - 1.6 * age - 0.3 * minute)), ("Eat", "Wait")
    else:
        offer = _number(r"offers you \$(\d+\.\d\d)", user) / 10
        fair = "fairness" in system
        p = 1 - float(expit((4.5 - 15 * offer) if fair else (1.59 - 10.42 * offer)))
        options = ("Accept", "Reject")
    return {options[0]: 0.97 * p, options[1]: 0.97 * (1 - p), "I": 0.03}


def findings(run_dir: Path) -> dict[str, Any]:
    """The findings and demonstrations diagnostics of every study of a finished run."""
    summary = json.loads((run_dir / "summary.json").read_text())
    return {vid: {"findings": exp["findings"], "method": exp["method"],
                  "draws": exp["diagnostics"].get("draws")}
            for vid, exp in summary["experiments"].items()}


def cycle(args: list[str], capsys: Any, *, out: Path | None = None,
          rounds: int = 30) -> list[str]:
    """``batch submit`` then ``collect`` until nothing is missing; each submit's output."""
    where = ["--out", str(out)] if out is not None else []
    printed = []
    capsys.readouterr()  # what came before
    for _ in range(rounds):
        assert main(["batch", "submit", *args, *where]) == 0, capsys.readouterr().err
        said = capsys.readouterr().out
        printed.append(said)
        if said.startswith("nothing to ask"):
            return printed
        assert main(["batch", "collect", *where]) == 0, capsys.readouterr().err
        capsys.readouterr()
    raise AssertionError(f"still missing requests after {rounds} rounds")


def requests_of(said: str) -> int:
    """N of a submit's "N requests ..." line."""
    return int(re.match(r"(\d+) requests", said).group(1))
