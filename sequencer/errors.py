"""Errors of the rollup node.

Tree::

    SequencerError
    ├── ConfigError(ValueError)        chain.toml is missing or invalid
    └── ... (added by the chain, mempool and RPC modules)
"""


class SequencerError(Exception):
    """Root of every error the node raises on purpose."""


class ConfigError(SequencerError, ValueError):
    """The chain configuration is missing or invalid; the message names the field."""
