"""py-evm's account database with cheaper account updates (same accounts, same roots).

py-evm's ``AccountDB`` changes an account with ``Account.copy(balance=...)``, which
deep-copies every unchanged field (ints and hashes, all immutable) through rlp's generic
``Serializable.copy``, then encodes it with rlp's generic list encoder. A transfer changes
balances five times and a nonce once, and touches two accounts (re-encoding them): on
the node these were a sixth of the block producer's time. :class:`NeuroAccountDB` builds
the new account from its four fields (:func:`.serializable.build`), encodes it directly
and keeps the encoding on the account in rlp's own ``_cached_rlp`` slot (which rlp's
decoder also fills), so touching an account writes the bytes it already has.
``tests/sequencer/chain/test_accounts.py`` checks the encoding against rlp's and the
state roots against py-evm's ``AccountDB``.
"""

from __future__ import annotations

from eth.db.account import AccountDB
from eth.rlp.accounts import Account
from eth.validation import validate_canonical_address, validate_uint64, validate_uint256
from eth_typing import Address, Hash32

from .roots import rlp_bytes, rlp_int, rlp_list
from .serializable import build


def _encode(nonce: int, balance: int, storage_root: bytes, code_hash: bytes) -> bytes:
    if len(storage_root) != 32 or len(code_hash) != 32:  # not an account py-evm stores
        return rlp_list(
            rlp_int(nonce) + rlp_int(balance) + rlp_bytes(storage_root) + rlp_bytes(code_hash)
        )
    payload = rlp_int(nonce) + rlp_int(balance) + b"\xa0" + storage_root + b"\xa0" + code_hash
    return b"\xf8" + bytes((len(payload),)) + payload  # 68 to 108 bytes: one length byte


def encode_account(account: Account) -> bytes:
    """``rlp.encode(account, sedes=Account)``: nonce, balance, storage root, code hash."""
    return _encode(account.nonce, account.balance, account.storage_root, account.code_hash)


class NeuroAccountDB(AccountDB):
    """``AccountDB`` whose account updates skip ``Serializable.copy`` and rlp's encoder."""

    def set_balance(self, address: Address, balance: int) -> None:
        validate_canonical_address(address, title="Storage Address")
        validate_uint256(balance, title="Account Balance")
        account = self._get_account(address)
        self._put(address, account.nonce, balance, account.storage_root, account.code_hash)

    def set_nonce(self, address: Address, nonce: int) -> None:
        validate_canonical_address(address, title="Storage Address")
        validate_uint64(nonce, title="Nonce")
        account = self._get_account(address)
        self._put(address, nonce, account.balance, account.storage_root, account.code_hash)

    def _put(
        self, address: Address, nonce: int, balance: int, storage_root: Hash32, code_hash: Hash32
    ) -> None:
        account = build(Account, (nonce, balance, storage_root, code_hash))
        account._cached_rlp = encoded = _encode(nonce, balance, storage_root, code_hash)
        self._account_cache[address] = account
        self._journaltrie[address] = encoded

    def _set_account(self, address: Address, account: Account) -> None:
        # touch_account, code and storage-root updates, deletions' resets
        encoded = account._cached_rlp or encode_account(account)
        self._account_cache[address] = account
        self._journaltrie[address] = encoded
