"""Rewinding the canonical chain (the dev method ``evm_revert``).

py-evm only ever moves the canonical head forward (by score); a dev chain also needs to go
back. This module rewrites py-evm's own index keys to make an older block the head again.
"""

from __future__ import annotations

import rlp
from eth.abc import ChainAPI
from eth.db.schema import SchemaV1
from eth.rlp.sedes import chain_gaps
from eth_typing import BlockNumber, Hash32


def rewind_canonical_head(chain: ChainAPI, target_hash: Hash32) -> int:
    """Make block ``target_hash`` the canonical head; returns how many blocks were rewound.

    The blocks after it stay in the database (reachable by hash) but leave the canonical
    number index and the transaction index. Run it inside one store transaction.
    """
    db = chain.chaindb.db
    target = chain.get_block_header_by_hash(target_hash)
    head = chain.get_canonical_head().block_number
    for number in range(target.block_number + 1, head + 1):
        block = chain.get_canonical_block_by_number(BlockNumber(number))
        for tx in block.transactions:
            del db[SchemaV1.make_transaction_hash_to_block_lookup_key(tx.hash)]
        del db[SchemaV1.make_block_number_to_hash_lookup_key(BlockNumber(number))]
    db[SchemaV1.make_canonical_head_hash_lookup_key()] = target_hash
    # py-evm tracks which block numbers it holds ("gaps"); forget the rewound ones so the
    # next block at those numbers is an ordinary extension of the chain.
    known = rlp.encode(((), target.block_number + 1), sedes=chain_gaps)
    db[SchemaV1.make_header_chain_gaps_lookup_key()] = known
    db[SchemaV1.make_chain_gaps_lookup_key()] = known
    return head - target.block_number
