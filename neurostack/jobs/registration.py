"""A chain's registration on a hub: one chain per chain id, held under a lease.

Chains sharing a hub keep their jobs apart by chain id (every key lives under
``neurostack:<chainId>:``), so two *different* chains with the same chain id must not
share one. A chain's node registers ``chain id -> genesis hash`` when it starts: the same
genesis (the same chain restarting, or a second node of it) is welcome, another genesis
gets :class:`ChainIdTaken` with what to do. The registration is a lease that the node
renews while it runs and releases when it stops, so a crashed chain frees its id after
``LEASE_SECONDS``.
"""

from __future__ import annotations

import logging
import threading

import redis
from redis.exceptions import RedisError

from neurostack.protocol import job_keys as keys

from .errors import BrokerUnavailable, ChainIdTaken

log = logging.getLogger(__name__)

LEASE_SECONDS = 30

# KEYS: the chain key. ARGV: genesis hex, lease seconds. Reply: "" (ours now) or the
# genesis hash that holds the chain id.
_ACQUIRE = """
if redis.call('TYPE', KEYS[1])['ok'] == 'string' then
  local held = redis.call('GET', KEYS[1])
  if held ~= ARGV[1] then return held end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ''
"""
_RELEASE = """
if redis.call('TYPE', KEYS[1])['ok'] == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 0
"""


class ChainRegistration:
    """Holds ``chain_id`` for the chain whose genesis hash is ``genesis_hash`` on a hub."""

    def __init__(
        self, client: redis.Redis, chain_id: int, genesis_hash: bytes, *, lease: int = LEASE_SECONDS
    ) -> None:
        if chain_id == 0:
            raise ValueError("chain id 0 is the hub's off-chain inference; chains need another")
        self.chain_id = chain_id
        self.genesis = "0x" + bytes(genesis_hash).hex()
        self.lease = lease
        self._key = keys.chain_key(chain_id)
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> None:
        """Register, or raise :class:`ChainIdTaken` / :class:`BrokerUnavailable`."""
        try:
            held = self._acquire(keys=[self._key], args=[self.genesis, self.lease])
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(
                f"cannot register chain {self.chain_id} with the hub: its Redis is "
                f"unreachable ({exc}); check the hub's Redis URL and password"
            ) from exc
        if held:
            other = held.decode() if isinstance(held, bytes) else str(held)
            raise ChainIdTaken(
                f"chain id {self.chain_id} is already served by this hub for another chain "
                f"(genesis {other[:18]}…, this chain's is {self.genesis[:18]}…); give this "
                "chain its own chain id ([chain].chain_id in chain.toml, then `neurostack up "
                f"--reset`), or stop the other chain (its registration lapses {self.lease} s "
                "after it stops)"
            )

    def start(self) -> ChainRegistration:
        """Acquire, then renew the lease in the background until :meth:`stop`."""
        self.acquire()
        self._thread = threading.Thread(target=self._renew, name="chain-lease", daemon=True)
        self._thread.start()
        return self

    def _renew(self) -> None:
        while not self._stopping.wait(self.lease / 3):
            try:
                self.acquire()
            except ChainIdTaken as exc:  # our lease lapsed (Redis was away) and was taken
                log.error("%s", exc)
            except BrokerUnavailable as exc:
                log.warning("could not renew the chain registration: %s", exc)

    def stop(self) -> None:
        """Stop renewing and release the chain id (if it is still ours)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self._release(keys=[self._key], args=[self.genesis])
        except (RedisError, OSError) as exc:
            log.warning("could not release the chain registration: %s", exc)
