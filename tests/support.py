"""Helpers shared by tests: scripted demonstrators with a known truth."""

from __future__ import annotations

from scipy.special import expit


def human_logistic(persona, state) -> list[float]:
    """P(reject | s) = sigmoid(1.59 - 10.42 s) (Heffner & FeldmanHall 2022) for every persona."""
    p_reject = float(expit(1.59 - 10.42 * state.offer))
    return [1.0 - p_reject, p_reject]


def persona_logistic(persona, state) -> list[float]:
    """A fair persona with a high threshold, a typical human one, a selfish one that accepts."""
    a, b = {"fair": (4.5, -15.0), "typical": (1.59, -10.42), "selfish": (-4.0, 0.0)}[persona.name]
    p_reject = float(expit(a + b * state.offer))
    return [1.0 - p_reject, p_reject]


class CacheableScripted:
    """Scripted backends that the on-disk cache may store (to test caching)."""

    @staticmethod
    def make(fn, **kwargs):
        from subrational.backends.scripted import ScriptedBackend

        return ScriptedBackend("cacheable", probs_fn=fn, cacheable=True, batch_size=16, **kwargs)
