"""The follower ("Judge"): a node that verifies a sequencer's blocks and serves them.

- :mod:`.source` — :class:`BlockSource`, where blocks and witnesses come from (a
  sequencer's JSON-RPC today, L1 batches next);
- :mod:`.sync` — :class:`Follower`, the loop that runs each block through the engine's
  ``import_block`` (the one state-transition function) and reports ``neuro_syncStatus``;
- :mod:`.node` — :class:`FollowerNode`, the read-only node it commits into.

docs/follower.md describes running it (``neurostack node --follow URL``).
"""

from .node import FollowerNode
from .source import BlockSource, RpcBlockSource, SourcedBlock, SourceError, redact
from .sync import BLOCK_ENCODING, WITNESS_ENCODING, Follower, decode_witness

__all__ = [
    "BLOCK_ENCODING",
    "WITNESS_ENCODING",
    "BlockSource",
    "Follower",
    "FollowerNode",
    "RpcBlockSource",
    "SourceError",
    "SourcedBlock",
    "decode_witness",
    "redact",
]
