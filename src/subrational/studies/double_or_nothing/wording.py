"""The words of double-or-nothing: the standard story (versions 1 and 2) and the disguise.

Version 1 (frozen: old policy files and caches depend on it) tells the story in gains only and
says "the money is real". Version 2 drops that sentence (no run pays anyone) and keeps the
instructions the same for both frames, so one persona's prompts still share their prefix; the
frame lives in the situation:

* gain frame: "you have ``w``; keep it, or flip: win and you have ``2w``, lose and you leave
  with nothing";
* loss frame (Kahneman & Tversky 1979, problems 11 and 12): "you are handed ``2w``; keep, and
  you must give back ``w`` for sure; flip: win and you lose nothing, lose and you lose all
  ``2w``". The money at the end is the same in both frames.

The disguised framing (``framing="disguised"``, :data:`FRAMING_VERSION`) tells the same
choices, probabilities and payoffs as a courier who may carry silver marks across a strait:
amounts are 3.7 marks per dollar, and it never says "double or nothing", "coin", "gamble" or
"bet" (its second answer is ``Cross``, not ``Gamble``).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["FRAMING_VERSION", "MARKS_PER_DOLLAR", "Wording", "DISGUISED", "STANDARD",
           "STANDARD_V1"]

FRAMING_VERSION = 1
MARKS_PER_DOLLAR = 3.7
"""The disguise's exchange rate: an unusual number, so no amount is a textbook one."""


def _times(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _money(amount: float) -> str:
    return f"${amount:,.0f}"


def _marks(amount: float) -> str:
    return f"{MARKS_PER_DOLLAR * amount:,.0f} silver marks"


class Wording:
    """The standard story, version 2: frame-neutral instructions, gain or loss situations."""

    actions = ("Keep", "Gamble")

    def contestant(self, stake: float) -> str:
        """The persona sentence of the contestant who starts with ``stake`` dollars."""
        return (f"You are a contestant on a TV game show, and you have just won "
                f"{_money(stake)} in the first part of the show.")

    def paraphrases(self, persona_text: str, max_flips: int) -> tuple[str, ...]:
        """The instructions and three rewordings with the same facts."""
        t, n = persona_text, max_flips
        return (
            f"{t} The host now offers you a double-or-nothing game with a coin. Each time, you "
            "can either keep and leave the show with the money the host names, or flip the "
            f"coin and risk it. You may flip at most {n} times. Before each choice "
            "the host tells you exactly what you stand to gain or lose. Answer as you would.",
            f"{t} The host proposes a game of double or nothing. Each round you choose: stop "
            "and walk away, or toss a coin. You get at most "
            f"{n} tosses, and before each one the host spells out what each choice brings. "
            "Decide as you would.",
            f"{t} Now the host offers a double-or-nothing gamble, played with a coin, up to {n} "
            "times. At each step you may stop and take what is on the table, or bet on a coin "
            "flip; the host describes the stakes before every step. Reply as you would.",
            f"{t} Next, the host gives you the chance to play double or nothing with a coin, "
            f"up to {n} times. Every time, you either keep and leave, or flip; the host tells "
            "you each time what you could win or lose. Answer as you would.")

    def odds(self, p: float) -> str:
        """The win chance in words."""
        if math.isclose(p, 0.5):
            return "50% (even odds, a fair coin)"
        return f"{100 * p:g}% ({'better' if p > 0.5 else 'worse'} than even odds)"

    def history(self, w0: float, k: int) -> str:
        """What happened so far."""
        flips = {0: "not flipped the coin yet", 1: "won your first flip"}.get(
            k, f"won all {k} flips so far")
        return f"You started with {_money(w0)} and have {flips}"

    def situation(self, *, w0: float, w: float, k: int, left: int, p: float,
                  frame: str) -> str:
        """Money, flips so far and left, the win chance; the choice in gains or in losses."""
        last = " This is your last possible flip." if left == 1 else ""
        chance = (f"Your chance of winning a flip is {self.odds(p)}. You have "
                  f"{_times(left, 'flip')} left.{last}")
        if frame == "loss":
            return (f"{self.history(w0, k)}. The host now hands you {_money(2 * w)}. {chance} "
                    f"If you keep, you must give back {_money(w)} of it: you lose {_money(w)} "
                    f"for sure. If you flip and win, you lose nothing of the {_money(2 * w)}; "
                    f"if you flip and lose, you lose all {_money(2 * w)} and leave with "
                    f"nothing. Do you keep and lose {_money(w)} for sure, or gamble on a flip?")
        return (f"{self.history(w0, k)}, so you now have {_money(w)}. {chance} If you flip "
                f"and win, you will have {_money(2 * w)}; if you flip and lose, you leave with "
                f"nothing. Do you keep the {_money(w)} or gamble it on a flip?")


class WordingV1(Wording):
    """Version 1: gains only, "the money is real" (kept verbatim so old files load)."""

    def paraphrases(self, persona_text: str, max_flips: int) -> tuple[str, ...]:
        """The version 1 instructions and rewordings."""
        t, n = persona_text, max_flips
        return (
            f"{t} The host now offers you a double-or-nothing game. Each time, you can either "
            "keep the money you have and leave the show with it, or flip a coin: if you win "
            "the flip, your money doubles; if you lose, you lose all of it and leave with "
            f"nothing. You may flip at most {n} times. The money is real and you keep whatever "
            "you leave with. Answer as you would.",
            f"{t} The host proposes a game of double or nothing. Each round you choose: walk "
            "away now with the money you have, or toss a coin. Win the toss and your money is "
            "doubled; lose it and you go home with nothing at all. There are at most "
            f"{n} tosses. The money is real and yours to keep. Decide as you would.",
            f"{t} Now the host offers a double-or-nothing gamble. At each step you may stop and "
            "take the money you have won so far, or bet all of it on a coin flip that doubles "
            "it if you win and leaves you with zero if you lose. You can flip up to "
            f"{n} times. Whatever you leave with is really paid to you. Reply as you would.",
            f"{t} Next, the host gives you the chance to play double or nothing, up to {n} "
            "times. Every time, you either keep your winnings and leave, or flip a coin: a win "
            "doubles everything you have, a loss wipes it all out. This is real money that you "
            "take home. Answer as you would.")

    def situation(self, *, w0: float, w: float, k: int, left: int, p: float,
                  frame: str) -> str:
        """The version 1 situation (gains only)."""
        return Wording.situation(self, w0=w0, w=w, k=k, left=left, p=p, frame="gain")


class Disguised(Wording):
    """The courier's crossing: the same game with no textbook cue (framing version 1)."""

    actions = ("Keep", "Cross")

    def contestant(self, stake: float) -> str:
        """The courier who starts with ``stake`` dollars' worth of marks."""
        return (f"You are a courier on the island of Varn, and this morning you were paid "
                f"{_marks(stake)} for a delivery.")

    def paraphrases(self, persona_text: str, max_flips: int) -> tuple[str, ...]:
        """The disguised story and three rewordings."""
        t, n = persona_text, max_flips
        return (
            f"{t} A ferryman offers to take you and your silver on his raft across the "
            "strait to the next island, where the exchange house pays two marks for every mark "
            "that arrives. Each time, you can keep the silver you are told you may keep and go "
            f"home, or cross. You may cross at most {n} times. Before each choice you are told "
            "exactly what you stand to gain or lose. Answer as you would.",
            f"{t} From here, a ferryman can carry you and your silver over the strait; on the "
            "far shore every mark you bring is exchanged for two. Each time you choose to keep "
            f"and go home, or to cross. There are at most {n} crossings, and before each one "
            "you hear what each choice brings. Decide as you would.",
            f"{t} A ferryman runs crossings of the strait; the exchange house on the other side "
            "gives two marks for each mark that arrives safely. At each step you may stop and "
            f"keep what is yours, or cross, up to {n} times; the terms are described before "
            "every step. Reply as you would.",
            f"{t} You may sail with a ferryman across the strait, up to {n} times, and at each "
            "landing the exchange house pays two marks for every mark you carry. Every time, "
            "you either keep and go home, or cross; you are told each time what you could "
            "gain or lose. Answer as you would.")

    def odds(self, p: float) -> str:
        """The chance of a safe crossing, without "even odds" or "coin"."""
        return f"{100 * p:g} in 100"

    def history(self, w0: float, k: int) -> str:
        """What happened so far."""
        done = {0: "not crossed yet", 1: "crossed once safely"}.get(
            k, f"crossed safely all {k} times so far")
        return f"You started with {_marks(w0)} and have {done}"

    def situation(self, *, w0: float, w: float, k: int, left: int, p: float,
                  frame: str) -> str:
        """Marks, crossings so far and left, the chance of arriving; keep or cross."""
        last = " This is the last crossing you may make." if left == 1 else ""
        chance = (f"The chance that a crossing arrives safely is {self.odds(p)}. You may cross "
                  f"{_times(left, 'more time')}.{last}")
        if frame == "loss":
            return (f"{self.history(w0, k)}. The exchange house now credits you {_marks(2 * w)}. "
                    f"{chance} If you keep, you must hand back {_marks(w)} of it: you lose "
                    f"{_marks(w)} for sure. If you cross and arrive, you lose nothing of the "
                    f"{_marks(2 * w)}; if the raft sinks, you lose all {_marks(2 * w)} and go "
                    f"home with nothing. Do you keep and lose {_marks(w)} for sure, or cross?")
        return (f"{self.history(w0, k)}, so you now carry {_marks(w)}. {chance} If you cross "
                f"and arrive, you will have {_marks(2 * w)}; if the raft sinks, you lose all "
                f"of it and go home with nothing. Do you keep the {_marks(w)} or cross?")


STANDARD_V1: Any = WordingV1()
STANDARD: Any = Wording()
DISGUISED: Any = Disguised()
