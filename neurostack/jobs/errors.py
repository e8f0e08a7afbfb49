"""Errors of the job client.

Tree::

    JobsError
    ├── BrokerUnavailable(ConnectionError)   the hub's Redis broker cannot be reached: retry later
    └── ChainIdTaken                         another chain is registered on the hub under this
                                             chain id: pick another chain id
"""


class JobsError(Exception):
    """Root of every error the job client raises on purpose."""


class BrokerUnavailable(JobsError, ConnectionError):
    """The broker is down or unreachable; the job was not queued. Retry later."""


class ChainIdTaken(JobsError):
    """Another chain (another genesis) already uses this chain id on the hub."""
