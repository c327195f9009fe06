"""Export a finished run: Minari, ``imitation`` and Hugging Face datasets, and its cache.

* :mod:`.minari`: Minari datasets with the study's env spec (extra ``subrational[minari]``);
* :mod:`.imitation`: the ``imitation`` library's trajectory columns, written with ``datasets``
  without importing imitation (extra ``subrational[export]``);
* :mod:`.hf`: a Hugging Face dataset folder (Parquet and a dataset card);
* :mod:`.cachefile`: the run's cached answers as a file another machine imports, to replay
  the run with ``--offline``.

Episodes come from :mod:`.episodes` (one ``rollout()`` for the demonstrations and the policy) on
the run read back by :mod:`.run`. The names below are imported on first use, so that importing
this package imports neither torch nor an optional dependency.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["export_run", "export_cache", "import_cache", "load_run", "FORMATS"]

FORMATS = ("minari", "imitation", "hf")
"""What ``subrational export --to`` writes."""

_PUBLIC = {"export_run": "subrational.export.commands",
           "export_cache": "subrational.export.cachefile",
           "import_cache": "subrational.export.cachefile",
           "load_run": "subrational.export.run"}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'subrational.export' has no attribute {name!r}")
