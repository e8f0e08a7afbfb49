"""py-evm's account database with cheaper account updates (same accounts, same roots).

py-evm's ``AccountDB`` changes an account with ``Account.copy(balance=...)``, which
deep-copies every unchanged field (ints and hashes, all immutable) through rlp's generic
``Serializable.copy``, then encodes it with rlp's generic list encoder. A transfer changes
balances four times and a nonce once: on the node these copies were 13% of the block
producer's time. :class:`NeuroAccountDB` builds the new account directly and encodes its
four fields itself; ``tests/sequencer/chain/test_accounts.py`` checks the encoding
against rlp's, and every test that runs the state transition on built blocks checks the
state roots.
"""

from __future__ import annotations

from eth.db.account import AccountDB
from eth.rlp.accounts import Account
from eth.validation import validate_canonical_address, validate_uint64, validate_uint256
from eth_typing import Address

from .roots import rlp_bytes, rlp_int, rlp_list


def encode_account(account: Account) -> bytes:
    """``rlp.encode(account, sedes=Account)``: nonce, balance, storage root, code hash."""
    return rlp_list(
        rlp_int(account.nonce)
        + rlp_int(account.balance)
        + rlp_bytes(account.storage_root)
        + rlp_bytes(account.code_hash)
    )


class NeuroAccountDB(AccountDB):
    """``AccountDB`` whose balance and nonce updates skip ``Serializable.copy``."""

    def set_balance(self, address: Address, balance: int) -> None:
        validate_canonical_address(address, title="Storage Address")
        validate_uint256(balance, title="Account Balance")
        account = self._get_account(address)
        self._set_account(
            address, Account(account.nonce, balance, account.storage_root, account.code_hash)
        )

    def set_nonce(self, address: Address, nonce: int) -> None:
        validate_canonical_address(address, title="Storage Address")
        validate_uint64(nonce, title="Nonce")
        account = self._get_account(address)
        self._set_account(
            address, Account(nonce, account.balance, account.storage_root, account.code_hash)
        )

    def _set_account(self, address: Address, account: Account) -> None:
        self._account_cache[address] = account
        self._journaltrie[address] = encode_account(account)
