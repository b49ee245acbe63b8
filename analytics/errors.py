"""Errors raised by the history store.

    AnalyticsError                  anything the history store refuses
    ├── HistoryVersionError         the file was written by a newer spotfleet
    ├── HistoryLockedError          another process holds the file for writing
    ├── IngestError                 a malformed input file or row; none of its batch is written
    └── UnknownQueryError           no canned query of that name

DuckDB's own errors are translated where they enter, with the original kept as ``__cause__``.
"""

from __future__ import annotations

__all__ = [
    "AnalyticsError",
    "HistoryLockedError",
    "HistoryVersionError",
    "IngestError",
    "UnknownQueryError",
]


class AnalyticsError(Exception):
    """Base of every error the history store raises."""


class HistoryVersionError(AnalyticsError):
    pass


class HistoryLockedError(AnalyticsError):
    pass


class UnknownQueryError(AnalyticsError):
    pass


class IngestError(AnalyticsError):
    """A malformed input: names the file, where in it, and what was wrong."""

    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        location = f"{source}, {where}" if where else source
        super().__init__(f"{location}: {problem}")
