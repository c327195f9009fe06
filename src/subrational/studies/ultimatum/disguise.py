"""The ultimatum game in disguise: a harbour pilot told her share of a salvage fee.

The same states (the share she is told), the same answers (Accept, Reject) and the same
payoffs (her share of the fee if she accepts, nothing for either if she rejects) in a story
with no textbook cue: it never says "ultimatum", "offer", "split", "proposer" or "responder",
and the fee is an unusual number of units (37 crowns by default). Framing version 1
(``Ultimatum.framing_version``); the persona sentence is still the persona's own text.
"""

from __future__ import annotations

__all__ = ["DISGUISED_PIE", "paraphrases", "situation"]

DISGUISED_PIE = 37.0
"""The salvage fee of the disguise, in crowns: an unusual number, unlike the textbook $10."""


def _crowns(x: float) -> str:
    return f"{x:.2f} crowns"


def paraphrases(persona_text: str, pie: float) -> tuple[str, ...]:
    """The disguised story and three rewordings with the same facts."""
    t, fee = persona_text, f"{pie:g} crowns"
    return (
        f"{t} You work as a harbour pilot. Last night you and a stranger brought a drifting "
        f"cargo barge safely into port, and the harbour office owes a salvage fee of {fee}. "
        "The stranger holds the claim and decides how many crowns go to you; the stranger "
        "keeps the rest. If you accept, each of you is paid that way. If you reject, the "
        "claim lapses and neither of you is paid anything. You will never see the stranger "
        "again. Answer as you would.",
        f"{t} As a harbour pilot, you helped a stranger tow a drifting barge into port last "
        f"night, and a salvage fee of {fee} is now due. The stranger, who filed the claim, "
        "names your part of the fee and keeps what is left. Accept, and you are both paid "
        "like that; reject, and the claim is void and nobody gets a crown. You will not meet "
        "the stranger again. Decide as you would.",
        f"{t} You are a harbour pilot. A stranger and you saved a loose barge last night; the "
        f"port will pay {fee} for it, to the stranger, who tells you what part of it is yours "
        "and keeps the remainder. If you accept, that is how it is paid. If you reject, the "
        "port pays no one. It happens once, and you will never deal with this stranger again. "
        "Reply as you would.",
        f"{t} Here is the situation: you pilot ships in a harbour, and last night you and a "
        f"stranger rescued a drifting barge. The salvage fee is {fee}, and the stranger, whose "
        "claim it is, tells you how much of it you will receive. Say yes, and each of you "
        "receives that amount; say no, and the fee is lost to both of you. This is a single "
        "encounter. Choose as you would.")


def situation(share: float, pie: float) -> str:
    """The share the stranger names, in crowns; asks accept or reject."""
    mine = share * pie
    return (f"The stranger says that {_crowns(mine)} of the fee will be yours and "
            f"{_crowns(pie - mine)} the stranger's. Do you accept or reject?")
