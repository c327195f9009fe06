"""A people-like model for the OpenAI-compatible test server: it reads the prompt's text only.

:func:`people_like` is a :data:`openai_server.Handler`. It finds the person and the situation
in the messages' words (as a real model must), for the four built-in studies in both
framings, and answers by a known rule:

* every adult has a minimum acceptable offer, a risk attitude and a diligence drawn from a
  hash of their profile (without the placebo traits), shifted by age (ultimatum: + 0.002 a
  year; gamble: - 0.02 logit a year) and by GPA (procrastination: + 0.4 logit per point); about
  one person in five never rejects an offer;
* a child's hazard of ringing the bell falls with age and triples with an unreliable adult;
* the disguise changes nothing (a simulator, not a reciter); shoe size and favourite colour
  change nothing (no stereotyping); the economist maximises money; the recall probe gets the
  textbook numbers.

Run it as a server for a whole run (``python tests/people_like.py``: it prints the base URL and
serves until Ctrl-C), e.g.::

    subrational run --model openai:people-like --base-url URL \\
        --population builtin:adults --population-size 200 --controls
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

__all__ = ["people_like", "situation_of"]

_N = r"\d[\d,]*(?:\.\d+)?"
_PLACEBO = re.compile(r";? ?(?:shoe size|favourite colour): [^;)]*")
_PROFILE = re.compile(r"(\d+)-year-old [^.(]*(?:\([^)]*\))?")
_RECALL = {"20 %": "42%", "10 %": "60%", "Bing nursery": "33%", "sure gain of 500": "84%",
           "Open University": "52%"}


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _person(system: str) -> tuple[float, float | None]:
    """``(u in [0, 1), age or None)``: the person's own draw, from their profile's words."""
    match = _PROFILE.search(system)
    if match is None:
        return 0.5, None
    key = _PLACEBO.sub("", match.group(0)).replace("()", "").strip()
    u = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 16**8
    return u, float(match.group(1))


def _num(*patterns: str, text: str) -> float | None:
    """The first pattern's number found in ``text`` (None when none matches)."""
    for pattern in patterns:
        match = re.search(pattern, text)
        if match is not None:
            return float(match.group(1).replace(",", ""))
    return None


def situation_of(system: str, user: str) -> tuple[str, dict[str, Any]]:
    """``(study, what the text says)``, or ``("", {})`` when it is none of the four."""
    if "Answer:" not in user and "exactly one word" not in user:
        return "", {}
    words = (f"{system} {user}").lower()
    if "accept or reject" in words:
        mine = _num(rf"offers you \$({_N})", rf"that ({_N}) crowns", text=user)
        theirs = _num(rf"keeps \$({_N})", rf"and ({_N}) crowns the stranger", text=user)
        if mine is None or theirs is None:
            return "", {}
        return "ultimatum", {"share": mine / (mine + theirs) if mine + theirs else 0.0}
    if "ring" in words and "wait" in words:
        return "marshmallow", {"unreliable": "without" in user}
    if "keep" in words and ("gamble" in words or "cross" in words):
        p = _num(r"winning a flip is (\d+)%", r"arrives safely is (\d+) in 100", text=user)
        left = _num(r"You have (\d+) flips? left", r"cross (\d+) more time", text=user)
        if p is None or left is None:
            return "", {}
        return "double_or_nothing", {"p": p / 100, "round": 5 - left,
                                     "loss": "for sure" in user}
    if "work" in words and "postpone" in words:
        days = _num(r"(\d+) days? (?:are |is )?left", text=user)
        remain = _num(r"so (\d+) sessions? remains?", text=user)
        if days is None or remain is None:
            return "", {}
        spaced = "evenly spaced" in user or "wants to see progress" in user
        return "procrastination", {"days": days, "remain": remain, "spaced": spaced,
                                   "gpa": _num(r"GPA of (\d+(?:\.\d+)?)", text=system)}
    return "", {}


def _p_first(study: str, s: dict[str, Any], system: str) -> tuple[str, str, float]:
    """``(first action, second action, P(first))`` by the module's rules."""
    u, age = _person(system)
    economist = "rational economist" in system
    if study == "ultimatum":
        mao = -0.05 if (u < 0.2 or economist) else 0.1 + 0.3 * u + 0.002 * ((age or 40) - 40)
        return "Accept", "Reject", _expit(30 * (s["share"] - mao))
    if study == "marshmallow":
        if economist:
            return "Ring", "Wait", 0.02
        hazard = (0.35 - 0.04 * ((age or 5) - 3) + 0.1 * (u - 0.5)) * (3 if s["unreliable"] else 1)
        return "Ring", "Wait", min(max(hazard, 0.01), 0.95)
    if study == "double_or_nothing":
        second = "Cross" if "cross" in system.lower() else "Gamble"
        if economist:
            return "Keep", second, 0.5 if s["p"] == 0.5 else 0.05
        gamble = (8 * (s["p"] - 0.55) - 0.35 * s["round"] - 0.02 * ((age or 40) - 40)
                  + 1.5 * (u - 0.5) + (1.2 if s["loss"] else 0.0))
        return "Keep", second, 1 - _expit(gamble)
    if economist:
        return "Work", "Postpone", 0.5
    work = (-2.5 + 5 * s["remain"] / s["days"] + 0.4 * ((s["gpa"] or 3.0) - 3.0)
            + 1.5 * (u - 0.5) + (0.8 if s["spaced"] else 0.0))
    return "Work", "Postpone", _expit(work)


def people_like(messages: list[dict[str, Any]]) -> dict[str, float]:
    """The next-token distribution of the people-like model for these chat messages."""
    system = next((str(m["content"]) for m in messages if m["role"] == "system"), "")
    user = str(messages[-1]["content"])
    if "percentage" in user and "Answer:" in user:
        recalled = next((v for k, v in _RECALL.items() if k in user), "50%")
        return {recalled: 1.0}
    study, s = situation_of(system, user)
    if not study:
        return {"I": 0.5, "Sorry": 0.5}  # not a question of the four: no valid answer
    first, second, p = _p_first(study, s, system)
    p = min(max(p, 1e-4), 1 - 1e-4)
    return {first: p, second: 1 - p}


if __name__ == "__main__":
    import sys
    import time
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from openai_server import FakeOpenAIServer

    with FakeOpenAIServer(handler=people_like, models=("people-like",)) as srv:
        print(srv.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
