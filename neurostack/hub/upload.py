"""Receiving a model upload: the streaming multipart parser and the owner's signature.

Starlette's ``request.form()`` spools a whole upload before the handler sees it, so an
oversized file would be written out in full before being refused. Here the request
body is fed chunk by chunk through ``python_multipart``'s streaming parser straight
into the store's :class:`~neurostack.hub.store.UploadSink`, which stops at the limit.

Authorisation: the ``signature`` field is ``owner``'s EIP-712 signature of the typed
``ModelUpload`` message (this hub's id, the file's sha256, name, version, description;
``neurostack.protocol.uploads``), so nobody can publish a model under another address,
and no signature made for anything else (another hub, file or name, a login challenge,
a personal-sign) authorises an upload.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from eth_utils import is_hex_address, to_checksum_address
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from neurostack.protocol.uploads import (
    InvalidUploadSignature,
    ModelUpload,
    recover_upload_signer,
)

from .errors import InvalidUpload, UploadForbidden, UploadUnauthorized
from .store import UploadSink

TEXT_FIELDS = ("owner", "signature", "name", "version", "description", "zk")
MAX_TEXT_FIELD = 16 * 1024


async def receive_upload(
    content_type: str, body: AsyncIterator[bytes], sink: UploadSink
) -> dict[str, str]:
    """Parse a ``multipart/form-data`` body: the ``file`` part goes to ``sink``, the text
    fields are returned. Raises :class:`InvalidUpload` on a malformed form."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidUpload(
            "upload as multipart/form-data with fields file, owner, signature, name, "
            "version and description"
        )
    fields: dict[str, bytearray] = {}
    headers: dict[bytes, bytes] = {}
    header_field = bytearray()
    header_value = bytearray()
    current: str | None = None
    seen_file = False

    def on_part_begin() -> None:
        headers.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(header_field).lower()] = bytes(header_value).strip()
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        nonlocal current, seen_file
        _, disp = parse_options_header(headers.get(b"content-disposition"))
        name = disp.get(b"name", b"").decode("utf-8", "replace")
        if name == "file":
            if seen_file:
                raise InvalidUpload("send exactly one 'file' part")
            seen_file = True
        elif name in TEXT_FIELDS:
            fields[name] = bytearray()
        else:
            raise InvalidUpload(
                f"unknown form field {name!r}; the fields are file, {', '.join(TEXT_FIELDS)}"
            )
        current = name

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if current == "file":
            sink.write(data[start:end])
            return
        assert current is not None
        buf = fields[current]
        buf.extend(data[start:end])
        if len(buf) > MAX_TEXT_FIELD:
            raise InvalidUpload(f"form field {current!r} is longer than {MAX_TEXT_FIELD} bytes")

    parser = MultipartParser(
        boundary,
        callbacks={
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise InvalidUpload(f"the multipart body is malformed ({exc}); resend the upload") from None
    if not seen_file or sink.size == 0:
        raise InvalidUpload("the upload has no 'file' part (or it is empty); attach the .onnx file")
    try:
        return {k: v.decode("utf-8") for k, v in fields.items()}
    except UnicodeDecodeError:
        raise InvalidUpload("form fields must be UTF-8 text") from None


SIGN_HINT = (
    "sign the EIP-712 ModelUpload message of this hub (GET /v1/hub gives its domain) over "
    "the file's sha256, name, version and description, with the owner's key "
    "(eth_signTypedData_v4; the SDK and `neurostack model upload` do this)"
)


def check_upload_signature(owner: str, signature: str, upload: ModelUpload) -> str:
    """Check that ``signature`` is ``owner``'s EIP-712 signature of ``upload``; returns the
    EIP-55 owner address."""
    if not owner or not is_hex_address(owner):
        raise InvalidUpload(f"owner {owner!r} is not an Ethereum address (0x + 40 hex digits)")
    if not signature:
        raise UploadUnauthorized(f"the upload is not signed: send 'signature'; {SIGN_HINT}")
    try:
        signer = recover_upload_signer(upload, signature)
    except InvalidUploadSignature:
        raise UploadUnauthorized(
            f"the signature is malformed: expected 65 bytes of hex; {SIGN_HINT}"
        ) from None
    owner = to_checksum_address(owner)
    if signer != owner:
        # A signature over anything else (another hub, file, name, version or description,
        # or not EIP-712 at all) recovers to an unrelated address: the same answer for all.
        raise UploadForbidden(
            f"the signature does not authorise this upload for {owner}: it was made by "
            f"another key or for another message; {SIGN_HINT}"
        )
    return owner
