"""What every command that runs processes stands on: the infrastructure under the supervisor (``open_core``) and
the one way to stop (``Shutdown``, driven by signals from the first moment)."""

from brummer.core.infrastructure import Core, open_core
from brummer.core.shutdown import SIGNALS, Shutdown, watch_signals

__all__ = ["SIGNALS", "Core", "Shutdown", "open_core", "watch_signals"]
