"""Redis names private to the hub (its sprinters and its API processes), next to the shared
job-result contract of :mod:`neurostack.protocol.job_keys`.

``RESULT_CHANNEL`` carries the whole outcome of a request: a sprinter publishes the
stored ``JobResult`` message (JSON) there in the same script that stores it and announces
the id on ``job_keys.DONE_CHANNEL``. The API's waiters thus get their answer from the
message itself instead of reading the key again, one Redis round trip less per request.
Requesters that only know the shared contract (``bridge/``) keep using ``DONE_CHANNEL``.
"""

from __future__ import annotations

from neurostack.protocol.job_keys import PREFIX

RESULT_CHANNEL = PREFIX + "hub:result"  # pub/sub: message = a JobResult message (JSON)
