"""The words of marshmallow version 2: the classic story and its disguised twin.

Both framings pose the same game (one thing now, or two if the child waits until the adult
comes back on her own; a bell, or a chime, calls the adult back at once and ends the wait with
one). Neither says how long the wait is or counts it down: in Mischel's procedure the child is
not told. The disguised framing (version :data:`FRAMING_VERSION`) renames everything and scales
the numbers (7 glass beads now, 14 after the wait: the same 1 : 2 payoff) so that no textbook
cue (marshmallow, treat, delay of gratification, Mischel, Kidd's crayons) is left. Changing
any text here changes the prompts: bump the study's ``version`` (or ``framing_version``).
"""

from __future__ import annotations

__all__ = ["FRAMINGS", "FRAMING_VERSION", "LADDER", "elapsed", "instructions", "situation"]

FRAMINGS = ("standard", "disguised")
FRAMING_VERSION = 1


def instructions(framing: str, persona_text: str) -> tuple[str, ...]:
    """The instructions and three rewordings with the same facts, for ``framing``."""
    p = persona_text
    if framing == "disguised":
        return (
            f"{p} A neighbour who is painting in the next room puts a closed paper bag with 7 "
            "shiny glass beads in it and a small brass chime on the table in front of you. She "
            "says: \"I have to go back to my painting for a while. If the bag is still closed "
            "when I come back on my own, I will put 7 more beads in it, so you will have 14. If "
            "you don't want to wait any more, ring the chime: I will come straight back and you "
            "can open the bag and keep the 7 beads, but then there will be no more.\" Then she "
            "goes out without saying how long she will be, and you are alone with the bag and "
            "the chime. Answer in character.",
            f"{p} The neighbour next door hands you a paper bag holding 7 glass beads and puts "
            "a little brass chime beside it. \"I'm going back to my painting,\" she says. \"Keep "
            "the bag shut until I come back by myself and I'll add 7 more beads, 14 in all. Ring "
            "the chime whenever you like and I'll come at once: then you open the bag and the 7 "
            "are yours, but you get no more.\" She leaves and does not say when she will be "
            "back. Answer in character.",
            f"{p} You sit at a table with a closed paper bag of 7 glass beads and a small brass "
            "chime. The neighbour who is painting next door tells you that if the bag is still "
            "shut when she returns on her own, she will add 7 more beads (14 in total); if you "
            "ring the chime, she will return immediately and you keep the 7 beads but get no "
            "more. She goes out without saying how long she will take. Reply in character.",
            f"{p} A neighbour leaves a paper bag with 7 glass beads and a brass chime in front "
            "of you. Wait with the bag closed until she comes back by herself and you will have "
            "14 beads; ring the chime and she comes right back, you open the bag and keep the 7, "
            "and there are no more. She goes back to her painting next door and does not say "
            "how long she will be away. Answer in character.")
    return (
        f"{p} An adult puts one marshmallow and a small bell on the table in front of you and "
        "says: \"I have to leave the room for a while. If you wait until I come back by "
        "myself, you will get two marshmallows. If you don't want to wait any more, ring the "
        "bell: I will come back right away and you can eat this one marshmallow, but then you "
        "will not get a second one.\" Then the adult leaves without saying how long she will be "
        "away, and you are alone with the marshmallow and the bell. Answer in character.",
        f"{p} A grown-up gives you one marshmallow and puts a bell next to it. \"I'm going out "
        "for a while,\" she says. \"If you wait until I come back on my own, you can have two "
        "marshmallows. If you ring the bell, I'll come back at once and you can eat this one, "
        "but there won't be a second one.\" She goes out and does not say when she will be "
        "back. Answer in character.",
        f"{p} You are at a table with one marshmallow and a little bell. The grown-up with you "
        "explains that she must step out: wait until she returns by herself and you will "
        "receive two marshmallows; ring the bell and she will return immediately, and you may "
        "eat this one but get no second one. She leaves without saying how long she will take. "
        "Reply in character.",
        f"{p} There is one marshmallow and a bell on the table. The adult says that if you "
        "wait until she comes back by herself you will get a second marshmallow; if you ring "
        "the bell she will come back right away and you can eat the one you have, with no "
        "second one. Then she walks out and does not say how long she will be away. Answer "
        "in character.")


LADDER = ("has just left the room", "has been gone for a moment",
          "has been gone for a little while", "has been gone for a while",
          "has been gone for quite a while", "has been gone for a good while",
          "has been gone for a long while", "has been gone for a long time")
"""How the wait feels at minutes 0, 1, ...; from minute 8 on, "very" is added once a minute."""


def elapsed(minute: int) -> str:
    """How long the child has waited, as she would feel it: words that grow, never minutes.

    A preschooler does not read a clock and was not told the length of the wait, so she
    knows neither the minutes waited nor the minutes left; she does feel time pass, and feels
    it longer every minute. Each minute gets its own words (the model must be able to tell the
    states apart): the :data:`LADDER`, then "a very long time", "a very, very long time" and
    so on. The words are a design choice.
    """
    if minute < len(LADDER):
        return LADDER[max(minute, 0)]
    return f"has been gone for a {', '.join(['very'] * (minute - len(LADDER) + 1))} long time"


def situation(framing: str, *, minute: int, reliable: bool) -> str:
    """The earlier promise (kept or broken), the time felt so far, then the question."""
    if framing == "disguised":
        promise = ("Earlier today this same neighbour promised to bring you a big box of new "
                   "coloured chalk, "
                   + ("and she came back with it." if reliable else
                      "but she came back without it and said: \"Sorry, there isn't any.\""))
        return (f"{promise} Now she {elapsed(minute)}. The bag is still closed in front of "
                "you. Do you ring the chime now or wait?")
    promise = ("Earlier today this same adult gave you a few old crayons and promised to come "
               "back with a big set of new ones, "
               + ("and she came back with them." if reliable else
                  "but she came back without them and said: \"I'm sorry, there aren't any.\""))
    return (f"{promise} Now the adult {elapsed(minute)}. The marshmallow is still in front of "
            "you. Do you ring the bell now or wait?")
