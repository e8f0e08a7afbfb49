"""The requester's side of the Redis result contract (:mod:`neurostack.protocol.job_keys`).

Two Lua scripts, so that a submission and a re-read each cost one round trip:

- ``submit``: the stored candidates of a request, and either "joined" (a live submission
  of the same request exists: its requester sends the copies) or the job marked submitted
  and an old failure of the request forgotten (the caller sends the copies);
- ``collect``: the stored candidates (results and signed failures) of a request.

Candidates are raw messages, verified by the caller. The scripts skip what the caller
already rejected (by the value's SHA-1, so a field an honest sprinter overwrites is read
again) and values longer than ``max_bytes`` (a value planted to make requesters read
megabytes never leaves Redis), and return at most ``max_entries`` of each kind. A key
of the wrong type (planted junk) reads as empty instead of failing the script.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from neurostack.protocol import job_keys as keys
from neurostack.protocol.jobs import InferenceJob

MAX_ENTRIES = 32  # candidates of each kind one read returns
MARKER_GRACE = 300  # seconds a job marker outlives its deadline, so status stays known

_COLLECT_FUNCTION = """
local function collect(key, max_bytes, limit, skip)
  local out = {}
  local n = 0
  if redis.call('TYPE', key)['ok'] ~= 'hash' then return out end
  for _, f in ipairs(redis.call('HKEYS', key)) do
    if n >= limit then break end
    if redis.call('HSTRLEN', key, f) <= max_bytes then
      local v = redis.call('HGET', key, f)
      if not skip[redis.sha1hex(v)] then
        table.insert(out, v)
        n = n + 1
      end
    end
  end
  return out
end
local function skipped(first)
  local skip = {}
  for i = first, #ARGV do skip[ARGV[i]] = true end
  return skip
end
"""

# KEYS: results, errors, marker. ARGV: now, marker JSON, marker ttl, max_bytes, limit.
# Reply: {joined (0/1), results, errors}.
_SUBMIT = (
    _COLLECT_FUNCTION
    + """
local max_bytes, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local skip = skipped(6)
local results = collect(KEYS[1], max_bytes, limit, skip)
local joined = 0
local marker = false
if redis.call('TYPE', KEYS[3])['ok'] == 'string' then marker = redis.call('GET', KEYS[3]) end
if marker then
  local ok, decoded = pcall(cjson.decode, marker)
  if ok and type(decoded) == 'table' and tonumber(decoded['deadline'] or 0) > tonumber(ARGV[1]) then
    joined = 1
  end
end
local errors = {}
if joined == 1 then
  errors = collect(KEYS[2], max_bytes, limit, skip)
else
  redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[3])
  redis.call('DEL', KEYS[2])
end
return {joined, results, errors}
"""
)

# KEYS: results, errors. ARGV: max_bytes, limit, then the SHA-1s to skip.
_COLLECT = (
    _COLLECT_FUNCTION
    + """
local skip = skipped(3)
local max_bytes, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
return {collect(KEYS[1], max_bytes, limit, skip), collect(KEYS[2], max_bytes, limit, skip)}
"""
)


@dataclass
class Candidates:
    """Stored messages of one request, results first: what a requester may verify."""

    results: list[bytes] = field(default_factory=list)
    errors: list[bytes] = field(default_factory=list)
    joined: bool = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.results
        yield from self.errors


@dataclass(frozen=True)
class Marker:
    """A submitted job as its marker records it."""

    deadline: float
    mode: int


class ResultStore:
    """Reads and marks one chain's jobs in Redis (thread-safe: redis-py pools connections)."""

    def __init__(self, client: redis.Redis, chain_id: int, max_bytes: int) -> None:
        self.client = client
        self.chain_id = chain_id
        self.max_bytes = max_bytes
        self._submit = client.register_script(_SUBMIT)
        self._collect = client.register_script(_COLLECT)

    def submit(self, job: InferenceJob, now: float) -> Candidates:
        """Mark ``job`` submitted unless a live submission exists; its stored candidates."""
        rid = keys.request_hex(job.request_id)
        marker = json.dumps({"deadline": job.deadline, "submitted": now, "mode": int(job.mode)})
        ttl = max(1, int(job.deadline - now) + MARKER_GRACE)
        joined, results, errors = self._submit(
            keys=[self._results(rid), self._errors(rid), keys.job_key(self.chain_id, rid)],
            args=[repr(now), marker, ttl, self.max_bytes, MAX_ENTRIES],
        )
        return Candidates(list(results), list(errors), bool(joined))

    def collect(self, requests: Sequence[tuple[str, Iterable[str]]]) -> list[Candidates]:
        """The candidates of each ``(request id hex, SHA-1s to skip)``, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for rid, skip in requests:
            self._collect(
                keys=[self._results(rid), self._errors(rid)],
                args=[self.max_bytes, MAX_ENTRIES, *skip],
                client=pipe,
            )
        return [Candidates(list(r), list(e)) for r, e in pipe.execute()]

    def marker(self, rid: str) -> Marker | None:
        """The job marker of ``rid``; ``None`` when there is none or it is not ours."""
        try:
            raw: bytes | None = self.client.get(keys.job_key(self.chain_id, rid))  # type: ignore[assignment]
        except redis.ResponseError:  # not a string: planted junk, not a marker
            return None
        if raw is None or len(raw) > 512 or raw.count(b"{") + raw.count(b"[") > 1:
            return None  # not what submit() writes (and json.loads must not recurse deeply)
        try:
            decoded: Any = json.loads(raw)
            return Marker(float(decoded["deadline"]), int(decoded.get("mode", 0)))
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None

    def _results(self, rid: str) -> str:
        return keys.results_key(self.chain_id, rid)

    def _errors(self, rid: str) -> str:
        return keys.errors_key(self.chain_id, rid)
