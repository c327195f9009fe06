"""Human reference data shipped with the package (``data/human_reference.json``).

Every number carries its source and a confidence tag (V checked, S secondary, M literature value).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["human_reference"]


@cache
def _load() -> dict[str, Any]:
    text = resources.files("subrational").joinpath("data/human_reference.json").read_text("utf-8")
    return json.loads(text)


def human_reference(experiment: str) -> dict[str, Any]:
    """Reference block for a short experiment name (``{}`` when none is shipped)."""
    return _load().get(experiment, {})
