"""Reporting: behaviour figures and the self-contained HTML report."""

from .figures import plot_analysis
from .html import write_report

__all__ = ["plot_analysis", "write_report"]
