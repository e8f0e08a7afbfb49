"""The one exception tree of the SDK: every error ``hub_client`` raises is a ``HubError``.

::

    HubError                                 root; .detail (the hub's message), .status (HTTP or None)
    ├── HubUnavailable(HubError, ConnectionError)   hub not reachable, or answered 5xx/503
    ├── NotFound(HubError, LookupError)
    │   ├── ModelNotFound                    unknown model CID (HTTP 404)
    │   └── JobNotFound                      unknown job id (HTTP 404)
    ├── InvalidInput(HubError, ValueError)   the request was refused as malformed (HTTP 400/422)
    ├── UploadRejected(HubError)             upload refused: not ONNX, too large, bad signature
    ├── InferenceTimeout(HubError, TimeoutError)    no result within the deadline (HTTP 504)
    ├── ReceiptInvalid(HubError)             the receipt failed local verification
    │   └── ProofInvalid                     a rollup's Merkle proof does not tie it to the header
    │       └── VerificationFailed           (light client) a named check failed: .check, .reason
    └── RollupError(HubError)                a rollup's JSON-RPC (``RollupClient``) failed
        ├── RollupUnavailable(RollupError, ConnectionError)  node not reachable
        ├── RpcError(RollupError)            the node answered a JSON-RPC error (.code, .data)
        ├── InferenceNotFound(RollupError, LookupError)  no receipt for that tx/request (yet)
        ├── InferenceDropped(RollupError)    PIPE dropped the transaction (.reason)
        └── ContractReverted(RollupError)    a call or transaction reverted (.reason, .data, .receipt)

Each error's ``str()`` says what was wrong and what to do; the hub's own message is
kept verbatim in ``.detail`` so a caller can show or log exactly what the server said.
Errors from a rollup's ``neuro_*`` JSON-RPC have their own branch (``RollupError``) rather
than reuse the HTTP ones; their ``status`` is None.
"""

from __future__ import annotations


class HubError(Exception):
    """Root of every SDK error. ``detail`` is the hub's message, ``status`` its HTTP status."""

    def __init__(self, detail: str, *, status: int | None = None, hint: str = "") -> None:
        self.detail = detail
        self.status = status
        self.hint = hint
        message = detail
        if status is not None:
            message = f"{message} (HTTP {status})"
        # The reference hub's messages already end in what to do ("...; upload it first");
        # the SDK's generic hint is added only to messages that carry no advice of their own.
        if hint and (status is None or "; " not in detail):
            message = f"{message}; {hint}"
        super().__init__(message)


class HubUnavailable(HubError, ConnectionError):
    """The hub could not be reached or failed on its side; retrying later may help."""


class NotFound(HubError, LookupError):
    """Something the request names does not exist on the hub."""


class ModelNotFound(NotFound):
    """No model with this CID is stored on the hub."""


class JobNotFound(NotFound):
    """No job with this id is known to the hub (it may have expired)."""


class InvalidInput(HubError, ValueError):
    """The hub refused the request's input (unknown tensor name, wrong shape or dtype, ...)."""


class UploadRejected(HubError):
    """The hub refused an upload: not a valid ONNX file, too large, or a bad signature."""


class InferenceTimeout(HubError, TimeoutError):
    """No sprinter produced a result before the deadline."""


class ReceiptInvalid(HubError):
    """A receipt failed local verification; its output must not be trusted."""


class ProofInvalid(ReceiptInvalid):
    """A rollup's inference proof does not tie its receipt to the block header."""


class VerificationFailed(ProofInvalid):
    """The light client could not prove something a rollup node said (``verify_inference``).

    ``check`` names what did not verify (``header``, ``anchor``, ``transaction``, ``status``,
    ``receipt``, ``merkle``, ``parent``, ``registry``, ``admission``: see
    ``hub_client.light``), ``reason`` says how, and ``checks`` lists the outcomes up to and
    including the failed one, for a UI to show.
    """

    def __init__(
        self, check: str, reason: str, *, checks: tuple[object, ...] = (), hint: str = ""
    ) -> None:
        self.check = check
        self.reason = reason
        self.checks = checks
        super().__init__(
            f"{check} did not verify: {reason}",
            hint=hint or "do not trust this node's answer about the transaction",
        )


class RollupError(HubError):
    """A rollup node's JSON-RPC failed or answered with an error (see ``RollupClient``)."""


class RollupUnavailable(RollupError, ConnectionError):
    """The rollup node could not be reached; is ``neurostack up`` running?"""


class RpcError(RollupError):
    """The node answered a JSON-RPC error object; ``code`` and ``data`` are kept."""

    def __init__(self, detail: str, *, code: int, data: object = None, hint: str = "") -> None:
        self.code = code
        self.data = data
        super().__init__(detail, hint=hint)
        # .detail stays the node's message verbatim; str() adds the code for logs.
        self.args = (f"{detail} (JSON-RPC error {code})" + (f"; {hint}" if hint else ""),)


class InferenceNotFound(RollupError, LookupError):
    """No inference receipt for this transaction or request in a canonical block (yet)."""


class InferenceDropped(RollupError):
    """The sequencer dropped the inference transaction; ``reason`` says why."""

    def __init__(self, detail: str, *, reason: str, hint: str = "") -> None:
        self.reason = reason
        super().__init__(detail, hint=hint)


class ContractReverted(RollupError):
    """A contract call or transaction reverted. ``reason`` is the decoded revert reason
    (``Error(string)``'s message, a named panic, or a custom error as ``Name(args)``),
    ``data`` the raw revert data, ``receipt`` the mined receipt (None when the revert
    happened in ``eth_call`` or while estimating gas, before anything was sent)."""

    def __init__(
        self, detail: str, *, reason: str, data: bytes = b"", receipt: object = None
    ) -> None:
        self.reason = reason
        self.data = data
        self.receipt = receipt
        super().__init__(detail)
