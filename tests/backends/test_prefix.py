"""The shared-prefix plan: every prompt once, prefixes really shared, least tokens computed."""

from __future__ import annotations

import itertools
import random

import pytest

from subrational.backends.prefix import (
    MIN_SHARED,
    Group,
    common_prefix,
    computed_tokens,
    plan_groups,
)


def _family(rng: random.Random, head: list[int], members: int, tail: tuple[int, int]) -> list:
    return [head + [rng.randrange(1000, 2000) for _ in range(rng.randint(*tail))]
            for _ in range(members)]


def _check(prompts: list[list[int]], groups: list[Group]) -> None:
    seen = sorted(i for g in groups for i in g.members)
    assert seen == list(range(len(prompts)))  # every prompt exactly once
    for group in groups:
        if not group.shared:
            continue
        assert group.shared >= MIN_SHARED and len(group.members) >= 2
        head = prompts[group.members[0]][:group.shared]
        for i in group.members:
            assert prompts[i][:group.shared] == head  # really a common prefix
            assert len(prompts[i]) > group.shared  # one token of its own at least
    assert sum(1 for g in groups if not g.shared) <= 1


def test_common_prefix():
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([], [1]) == 0
    assert common_prefix([5], [6]) == 0


def test_families_of_prompts_share_their_heads_and_strangers_stay_alone():
    rng = random.Random(3)
    a, b = list(range(100, 160)), list(range(200, 240))
    prompts = _family(rng, a, 9, (3, 12)) + _family(rng, b, 7, (1, 5))
    prompts += [[rng.randrange(5000, 6000) for _ in range(30)] for _ in range(3)]
    rng.shuffle(prompts)
    groups = plan_groups(prompts)
    _check(prompts, groups)
    shared = sorted(g.shared for g in groups if g.shared)
    assert shared == [40, 60]
    assert [len(g.members) for g in groups if not g.shared] == [3]
    total = sum(map(len, prompts))
    assert computed_tokens(prompts, groups) == total - 8 * 60 - 6 * 40


def test_a_prompt_that_is_the_prefix_of_another_keeps_a_token_of_its_own():
    head = list(range(50))
    prompts = [head, head + [7, 8], head + [9], list(head)]
    groups = plan_groups(prompts)
    _check(prompts, groups)
    assert [g.shared for g in groups] == [49]


def test_short_common_prefixes_are_not_worth_a_pass():
    head = list(range(MIN_SHARED - 1))
    prompts = [head + [1000 + i] * 20 for i in range(6)]
    groups = plan_groups(prompts)
    assert groups == [Group(tuple(range(6)), 0)]
    assert computed_tokens(prompts, groups) == sum(map(len, prompts))


def test_no_prompts():
    assert plan_groups([]) == []


def _best_by_brute_force(prompts: list[list[int]], overhead: int) -> int:
    """Least cost over every cut of the sorted prompts into contiguous runs."""
    order = sorted(range(len(prompts)), key=lambda i: prompts[i])
    best = None
    for cuts in itertools.product([False, True], repeat=len(order) - 1):
        runs, run = [], [order[0]]
        for k, cut in enumerate(cuts, start=1):
            if cut:
                runs.append(run)
                run = []
            run.append(order[k])
        runs.append(run)
        cost = 0
        for run in runs:
            lengths = [len(prompts[i]) for i in run]
            usable = min(min(common_prefix(prompts[run[0]], prompts[i]) for i in run),
                         min(lengths) - 1)
            if len(run) >= 2 and usable >= MIN_SHARED:
                cost += usable + sum(lengths) - len(run) * usable + overhead
            else:
                cost += sum(lengths)
        best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_the_plan_computes_as_few_tokens_as_any_cut_of_the_sorted_prompts(seed):
    rng = random.Random(seed)
    trunk = [rng.randrange(10) for _ in range(rng.randint(10, 30))]
    prompts = []
    for _ in range(rng.randint(2, 8)):
        cut = rng.randint(0, len(trunk))
        prompts.append(trunk[:cut] + [rng.randrange(3) for _ in range(rng.randint(1, 25))])
    overhead = rng.choice([0, 16, 40])
    groups = plan_groups(prompts, overhead=overhead)
    _check(prompts, groups)
    planned = computed_tokens(prompts, groups) + overhead * sum(1 for g in groups if g.shared)
    assert planned == _best_by_brute_force(prompts, overhead)
