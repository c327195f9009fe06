"""One seed derivation for the package, bit-identical to the ones it replaced (cache keys)."""

import hashlib

import numpy as np

from subrational.seeding import derive_seed, derived_rng


def _old_draw_seed(text):  # elicitation's former Cell.seed: 31 bits of sha256
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") >> 1


def _old_rng(text):  # behaviour, structural and episode streams: 64 bits of sha256
    return np.random.default_rng(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def test_draw_seeds_in_cache_keys_are_unchanged():
    old = _old_draw_seed('0|fair|{"offer":0.1}|(0, 1)|3|p2')
    assert derive_seed(0, "fair", '{"offer":0.1}', (0, 1), 3, "p2", bits=31) == old
    assert derive_seed(7, "age-4", '{"minute":2}', (1, 0), 0, bits=31) == _old_draw_seed(
        '7|age-4|{"minute":2}|(1, 0)|0')


def test_generators_draw_the_same_numbers_as_before():
    assert derived_rng(3, "policy", "fair").random() == _old_rng("3|policy|fair").random()
    assert derived_rng(0, "m", "demonstrations", "age-2").random() == _old_rng(
        "0|m|demonstrations|age-2").random()


def test_streams_differ_by_their_parts():
    assert derive_seed(0, "a") != derive_seed(0, "b") != derive_seed(1, "a")
    assert 0 <= derive_seed(5, "x", bits=31) < 2**31
