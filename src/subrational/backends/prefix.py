"""Which prompts of a scoring call share a token prefix, and how to group them to compute least.

Every prompt of one persona x wording x option order starts with the same system text (persona
and instructions come first by design), so a study's prompts share long token prefixes. The
in-process backend encodes each group's shared prefix once and every member's remaining tokens
on top of a copy of that prefix's KV cache (:mod:`.hf`). This module only plans: it is pure
Python on token ids, so it is tested without a model.

The plan sorts the prompts by their token ids (prompts with a common prefix become neighbours;
the common prefix of a contiguous run is the smallest common prefix of neighbours in it) and
cuts the sorted list into runs by dynamic programming, minimising the tokens computed: a run of
``m`` prompts with common prefix ``P`` costs ``P + sum(len - P) + GROUP_OVERHEAD``; a prompt on
its own costs its length. Runs whose prefix is shorter than :data:`MIN_SHARED` tokens are not
formed: such prompts are scored as before (left-padded batches sorted by length).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Group", "plan_groups", "common_prefix", "MIN_SHARED", "GROUP_OVERHEAD", "WINDOW"]

MIN_SHARED = 16
"""Fewest shared tokens worth a prefix pass of their own (a design choice: below this the extra
forward call costs more than the tokens it saves on a CPU)."""

GROUP_OVERHEAD = 16
"""Cost of one more prefix pass, in tokens, in the plan's accounting (one extra forward call)."""

WINDOW = 512
"""The longest run the plan considers (bounds its work at ``WINDOW`` steps per prompt)."""


@dataclass(frozen=True)
class Group:
    """Prompts scored together.

    Attributes:
        members: Indices of the prompts, in the order they are scored.
        shared: Tokens every member starts with that are encoded once (0: no sharing; then
            the group is the prompts left to the length-sorted batches).
    """

    members: tuple[int, ...]
    shared: int


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def plan_groups(prompts: Sequence[Sequence[int]], *, min_shared: int = MIN_SHARED,
                overhead: int = GROUP_OVERHEAD, window: int = WINDOW) -> list[Group]:
    """Groups of prompts that share a prefix, and one last group (``shared=0``) of the rest.

    Every index of ``prompts`` is in exactly one group. A shared prefix always leaves each
    member at least one token of its own (the token whose logits give the first option token).
    """
    order = sorted(range(len(prompts)), key=lambda i: list(prompts[i]))
    n = len(order)
    lengths = [len(prompts[i]) for i in order]
    neighbours = [common_prefix(prompts[order[k]], prompts[order[k + 1]]) for k in range(n - 1)]
    # best[j]: least cost of the first j sorted prompts; cut[j]: where the last run starts and
    # its shared length (0: a prompt on its own).
    best = [0] * (n + 1)
    cut: list[tuple[int, int]] = [(0, 0)] * (n + 1)
    for j in range(1, n + 1):
        best[j], cut[j] = best[j - 1] + lengths[j - 1], (j - 1, 0)
        shared, shortest, total = 1 << 60, lengths[j - 1], lengths[j - 1]
        for i in range(j - 2, max(-1, j - 1 - window), -1):  # the run is sorted[i:j]
            shared = min(shared, neighbours[i])
            shortest = min(shortest, lengths[i])
            total += lengths[i]
            usable = min(shared, shortest - 1)
            if usable < min_shared:
                break
            cost = best[i] + usable + total - (j - i) * usable + overhead
            if cost < best[j]:
                best[j], cut[j] = cost, (i, usable)
    groups: list[Group] = []
    alone: list[int] = []
    j = n
    while j > 0:
        i, usable = cut[j]
        if usable:
            groups.append(Group(tuple(order[i:j]), usable))
        else:
            alone.append(order[j - 1])
        j = i
    groups.reverse()
    if alone:
        groups.append(Group(tuple(sorted(alone)), 0))
    return groups


def computed_tokens(prompts: Sequence[Sequence[int]], groups: Sequence[Group]) -> int:
    """Prompt tokens a plan encodes (each shared prefix once, padding not counted)."""
    total = 0
    for group in groups:
        total += group.shared + sum(len(prompts[i]) - group.shared for i in group.members)
    return total
