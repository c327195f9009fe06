"""The words of procrastination version 2: the class report and its disguised twin.

Both framings pose the same O'Donoghue-Rabin game: each work session is an effort on the day
it is done, and the payoff comes at the end of the last day whichever day the work was
finished (nothing if it is unfinished then). Under evenly spaced deadlines (Ariely &
Wertenbroch 2002) each earlier session has its own day, and missing one costs a tenth of the
payoff. The disguised framing (version :data:`FRAMING_VERSION`) is a carving order for a
neighbour, paid 380 coins on collection (38 off per missed check): no report, class, deadline
or procrastination. Changing any text here changes the prompts: bump the study's ``version``
(or ``framing_version``).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["FRAMINGS", "FRAMING_VERSION", "PRICE", "instructions", "situation"]

FRAMINGS = ("standard", "disguised")
FRAMING_VERSION = 1
PRICE = 380
"""Coins the neighbour pays for the chest in the disguised framing (an unusual number)."""


def _n(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def instructions(framing: str, persona_text: str, *, sessions: int,
                 deadline: int) -> tuple[str, ...]:
    """The instructions and three rewordings with the same facts, for ``framing``."""
    p, d = persona_text, deadline
    if framing == "disguised":
        work = _n(sessions, "carving session")
        return (
            f"{p} A neighbour has ordered a hand-carved wooden chest from you. It takes "
            f"{work}, at most one a day, and each session is tiring work on the day you do it. "
            f"The neighbour collects the chest at the end of day {d} and pays you {PRICE} coins "
            "then, whichever day you finished it; if it is not finished by then, the order is "
            "cancelled and you get nothing. Every day you decide whether to carve that day or "
            "to put it off and do something more pleasant. Answer in character.",
            f"{p} You have agreed to carve a wooden chest for a neighbour. It needs {work}, no "
            "more than one per day, and each one is hard work on that day. She will pick it up "
            f"at the end of day {d} and pay {PRICE} coins on the spot, no matter when you "
            "finished; an unfinished chest then means no sale. Each day you choose: carve, or "
            "leave it for later and do something nicer. Decide in character.",
            f"{p} A neighbour will collect a carved wooden chest from you at the end of day "
            f"{d}, paying {PRICE} coins at collection however early it was ready, and nothing "
            f"if it is not done. The chest takes {work} in all, one a day at most, each a "
            "tiring day's work. On every day you either carve or put it off for something you "
            "enjoy more. Reply in character.",
            f"{p} You are making a carved wooden chest that a neighbour has ordered. You need "
            f"{work} and can do only one a day, and each costs you a tiring day. She pays "
            f"{PRICE} coins when she collects it at the end of day {d}, whenever you finish; if "
            "it is not ready by then, she pays nothing. Each day you can carve or put it off "
            "in favour of something more fun. Answer in character.")
    work = _n(sessions, "work session")
    return (
        f"{p} You have to write a report for one of your classes. It takes {work}, at most "
        "one a day, and each session is an effort on the day you do it. The report is due at "
        f"the end of day {d}: you get the credit for it then, whichever day you finished it, "
        "and a report not finished by then is late and earns nothing. Every day you decide "
        "whether to work on the report that day or to postpone it and do something more "
        "pleasant instead. Answer in character.",
        f"{p} One of your classes requires a report. Finishing it takes {work}, no more than "
        "one per day, and each session is hard work on that day. It is due at the end of day "
        f"{d}, and it is graded then however early you finished; after that it is late and "
        "counts for nothing. Each day you choose: spend a session on the report, or put it "
        "off and do something more enjoyable. Decide in character.",
        f"{p} You have a class report due at the end of day {d}. It is credited at the due "
        f"date no matter when it was done, and earns nothing if unfinished by then. It needs "
        f"{work} in total, at most one per day, each an effort on the day. On every day you "
        "either work on it or leave it for later and do something you like better. Reply in "
        "character.",
        f"{p} A report for a class is due at the end of day {d}. You need {work} to complete "
        "it, one a day at most, and each session is tiring on the day you do it. You receive "
        "the credit at the due date whenever you finish; if it is not done by then, it is "
        "late and gets nothing. Each day, you can work on the report or postpone it in favour "
        "of something more fun. Answer in character.")


def _ordinal(k: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(k, f"number {k}")


def _schedule(framing: str, interim: Sequence[int], spaced: bool) -> str:
    if not spaced:
        return ("There are no checks before the end: you may carve whenever you like. "
                if framing == "disguised" else
                "There is only the one final deadline: you may do the sessions whenever you "
                "like before it. ")
    days = "; ".join(f"the {_ordinal(k)} session by the end of day {day}"
                     for k, day in enumerate(interim, start=1))
    if framing == "disguised":
        return (f"The neighbour wants to see progress: {days}. For each of these checks you "
                f"miss, {PRICE // 10} coins come off the price. ")
    return (f"Your teacher has set evenly spaced deadlines: {days}. Each of these deadlines "
            "you miss costs a tenth of the report's marks. ")


def situation(framing: str, *, day: int, done: int, sessions: int, deadline: int,
              interim: Sequence[int], spaced: bool) -> str:
    """The schedule, which day it is, the days left, the sessions done and left, the question."""
    days_left, left = deadline - day + 1, sessions - done
    remain = f"{_n(left, 'session')} remain{'s' if left == 1 else ''}"
    if framing == "disguised":
        return (f"{_schedule(framing, interim, spaced)}It is day {day} of {deadline}. Including "
                f"today, {_n(days_left, 'day')} {'is' if days_left == 1 else 'are'} left before "
                f"the neighbour collects the chest. You have done {done} of the "
                f"{_n(sessions, 'carving session')}, so {remain}. Do you work on the chest "
                "today or postpone it?")
    return (f"{_schedule(framing, interim, spaced)}It is day {day} of {deadline}. Including "
            f"today, you have {_n(days_left, 'day')} left until the report is due. You have "
            f"done {done} of the {_n(sessions, 'work session')}, so {remain}. Do you work on "
            "the report today or postpone it?")
