"""The event bus: typed events, fanned out over bounded memory channels, one per priority."""

from brummer.bus.bus import Bus, DropCounts, Subscription
from brummer.bus.events import (
    ErrorDetected,
    ErrorRepeated,
    ErrorResolved,
    Event,
    LogLines,
    Notice,
    Priority,
    ProcessChanged,
    ProxyRequest,
    ServiceFailed,
    UrlDetected,
    UrlsCleared,
)

__all__ = [
    "Bus",
    "DropCounts",
    "ErrorDetected",
    "ErrorRepeated",
    "ErrorResolved",
    "Event",
    "LogLines",
    "Notice",
    "Priority",
    "ProcessChanged",
    "ProxyRequest",
    "ServiceFailed",
    "Subscription",
    "UrlDetected",
    "UrlsCleared",
]
