"""Provider batch APIs: a run's missing calls as OpenAI / Anthropic batch JSONL, at half price.

``submit`` writes what the run still has to ask (keyed by cache key) and sends it, ``status``
polls, ``collect`` stores the answers in the cache, and ``subrational run --offline`` finishes
the run; see :mod:`.commands` and :mod:`.requests` (which studies need several rounds).
"""

from .commands import BATCH_DISCOUNT, Submitted, collect, status, submit
from .ingest import Ingested
from .requests import PROVIDERS, BatchLine, Missing, batch_lines, missing_requests
from .state import BatchRecord, BatchState, LineRecord

__all__ = ["BATCH_DISCOUNT", "Submitted", "submit", "status", "collect", "Ingested",
           "PROVIDERS", "BatchLine", "Missing", "batch_lines", "missing_requests",
           "BatchRecord", "BatchState", "LineRecord"]
