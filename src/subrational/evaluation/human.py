"""Human reference data shipped with the package, one file per study (``data/human/<name>.json``).

Every number carries its source and a confidence tag (V checked, S secondary, M literature value),
copied from HUMAN_DATA.md. One file per study keeps each study's numbers next to its citations.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["human_reference"]


@cache
def human_reference(experiment: str) -> dict[str, Any]:
    """Reference block for a short experiment name (``{}`` when none is shipped)."""
    path = resources.files("subrational").joinpath(f"data/human/{experiment}.json")
    if not path.is_file():
        return {}
    return json.loads(path.read_text("utf-8"))
