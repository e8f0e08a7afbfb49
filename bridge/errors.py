"""Errors of the bridge.

Tree::

    BridgeError
    └── BrokerUnavailable(ConnectionError)   the hub's Redis broker cannot be reached: retry later
"""


class BridgeError(Exception):
    """Root of every error the bridge raises on purpose."""


class BrokerUnavailable(BridgeError, ConnectionError):
    """The broker is down or unreachable; the job was not queued. Retry later."""
