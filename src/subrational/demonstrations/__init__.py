"""Demonstrations: the LLM's answers as a versioned table, targets and a lookup policy."""

from .table import (
                    DEMO_FORMAT,
                    TablePolicy,
                    diagnostics,
                    read_demonstrations,
                    targets,
                    to_frame,
                    write_demonstrations,
)

__all__ = ["DEMO_FORMAT", "TablePolicy", "diagnostics", "read_demonstrations", "targets",
           "to_frame", "write_demonstrations"]
