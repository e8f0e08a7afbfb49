"""The transaction pool: admission (geth's checks and messages), the mempool (ordering,
replacement, nonce gaps) and the crash-safe journal.

Modules: ``admission`` (stateless checks), ``pool`` (the mempool and its block order),
``journal`` (durability), ``service`` (:class:`TxPool`, the component the node wires).
"""

from .admission import MAX_TX_SIZE, SUPPORTED_TX_TYPES, decode_transaction
from .journal import JOURNAL_FILE, Journal
from .pool import Mempool, PooledTx, PoolLimits
from .service import AdmissionCheck, HeadView, PendingListener, TxPool

__all__ = [
    "JOURNAL_FILE",
    "MAX_TX_SIZE",
    "SUPPORTED_TX_TYPES",
    "AdmissionCheck",
    "HeadView",
    "Journal",
    "Mempool",
    "PendingListener",
    "PoolLimits",
    "PooledTx",
    "TxPool",
    "decode_transaction",
]  # fmt: skip
