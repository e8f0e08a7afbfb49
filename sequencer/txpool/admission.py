"""The stateless checks of ``eth_sendRawTransaction``: size, encoding, type, chain id, fees,
gas, signature. The stateful ones (nonce, balance, replacement) are the pool's
(:mod:`.pool`); both raise ``TransactionRejected`` with geth's text.
"""

from __future__ import annotations

from collections.abc import Callable

import rlp
from eth.abc import SignedTransactionAPI
from eth.constants import SECPK1_N
from eth.exceptions import UnrecognizedTransactionType
from eth_keys.exceptions import BadSignature
from eth_typing import Address
from eth_utils import ValidationError

from ..chain.executor import validate_fields
from ..errors import TransactionRejected
from .decoding import fast_decoder
from .senders import recover_sender

MAX_TX_SIZE = 128 * 1024  # geth's txMaxSize

SUPPORTED_TX_TYPES = (0, 1, 2)  # legacy (EIP-155), access list (EIP-2930), dynamic fee (EIP-1559)


def decode_transaction(
    raw: bytes, decode: Callable[[bytes], SignedTransactionAPI], chain_id: int, gas_limit: int
) -> tuple[SignedTransactionAPI, Address]:
    """The stateless checks of ``eth_sendRawTransaction``: size, encoding, type, chain id,
    fee fields, gas limit, signature, intrinsic gas. Returns the transaction and its sender.
    """
    if len(raw) > MAX_TX_SIZE:
        raise TransactionRejected(
            "oversized data", f"transaction size {len(raw)}, limit {MAX_TX_SIZE}"
        )
    if not raw:
        raise TransactionRejected("typed transaction too short")
    if raw[0] <= 0x7F and raw[0] not in SUPPORTED_TX_TYPES:
        raise TransactionRejected("transaction type not supported", f"type {raw[0]}")
    try:
        tx = fast_decoder(decode)(raw)
    except (
        rlp.exceptions.RLPException,
        ValidationError,
        UnrecognizedTransactionType,
        ValueError,
    ) as exc:
        raise TransactionRejected("rlp", f"cannot decode transaction ({exc})") from None
    tx_chain_id = tx.chain_id
    if tx_chain_id is None:
        raise TransactionRejected("only replay-protected (EIP-155) transactions allowed over RPC")
    if tx_chain_id != chain_id:
        raise TransactionRejected(
            "invalid sender", f"invalid chain id for signer: have {tx_chain_id} want {chain_id}"
        )
    if tx.max_priority_fee_per_gas > tx.max_fee_per_gas:
        raise TransactionRejected(
            "max priority fee per gas higher than max fee per gas",
            f"maxPriorityFeePerGas: {tx.max_priority_fee_per_gas}, "
            f"maxFeePerGas: {tx.max_fee_per_gas}",
        )
    if tx.gas > gas_limit:
        raise TransactionRejected("exceeds block gas limit", f"gas {tx.gas}, limit {gas_limit}")
    intrinsic = tx.intrinsic_gas
    if tx.gas < intrinsic:
        raise TransactionRejected(
            "intrinsic gas too low", f"gas {tx.gas}, minimum needed {intrinsic}"
        )
    if not 0 < tx.s <= SECPK1_N // 2:
        # EIP-2's low s, for every transaction type (geth's ValidateSignatureValues): py-evm
        # checks it only when executing, so a malleated copy of a pending transaction (same
        # sender, another hash) would be pooled and then fail in the block
        raise TransactionRejected("invalid sender")
    try:
        # field ranges (r, s, v) without an EC operation; then one recovery from the raw
        # bytes, which the builder reuses (py-evm's cached sender)
        validate_fields(tx)
        sender = recover_sender(raw, tx)
    except (BadSignature, ValidationError, ValueError):
        raise TransactionRejected("invalid sender") from None
    return tx, sender
