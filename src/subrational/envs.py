"""Import to make every registered study a Gymnasium id: ``subrational/<id>``.

::

    import gymnasium
    import subrational.envs  # noqa: F401  (registers subrational/ultimatum-v2, ...)

    env = gymnasium.make("subrational/marshmallow-v1", persona="age-4")

or, with no import first, ``gymnasium.make("subrational.envs:subrational/marshmallow-v1")``.
A game of one's own (``subrational.register(MyGame)``) gets its id when it is registered. The
package face (``import subrational``) stays lazy and registers nothing: Gymnasium itself is not
imported until a study is.
"""

from __future__ import annotations

from .experiments.registry import gym_id, names

__all__ = ["ids", "gym_id"]


def ids() -> list[str]:
    """The Gymnasium ids of every registered study, sorted."""
    return [gym_id(vid) for vid in names()]


ids()  # reads the catalogue: the built-in studies register, and with them their ids
