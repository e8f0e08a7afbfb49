"""Model files on the client side: hashing and signing an upload, streaming it with a
progress bar, and writing a download atomically after checking its content id."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from neurostack.protocol.cid import cid_digest, parse_model_cid
from neurostack.protocol.errors import ProtocolError
from neurostack.protocol.uploads import model_upload, sign_upload

from ._wire import checked_cid
from .errors import HubError, UploadRejected

if TYPE_CHECKING:  # eth_account is imported where a key is loaded: its import costs ~0.5 s
    from eth_account.signers.local import LocalAccount

#: Files at least this large get a progress bar (when stderr is a terminal).
PROGRESS_THRESHOLD = 1 << 20

Progress_ = bool | Literal["always"]


@dataclass(frozen=True)
class UploadPlan:
    """A file ready to upload: its digest, the owner's key and the values to sign."""

    path: Path
    size: int
    digest: bytes
    owner: LocalAccount
    name: str
    version: str
    description: str

    def form(self, hub_id: bytes) -> dict[str, str]:
        """The upload's form fields, signed for the hub ``hub_id`` (``GET /v1/hub``): the
        owner's EIP-712 signature of the ``ModelUpload`` message of
        ``neurostack.protocol.uploads``, next to the very values it signs."""
        upload = model_upload(hub_id, self.digest, self.name, self.version, self.description)
        signature = sign_upload(upload, self.owner.key)
        return {
            "owner": self.owner.address,
            "signature": "0x" + bytes(signature).hex(),
            "name": upload.name,
            "version": upload.version,
            "description": upload.description,
        }


def _load_key(private_key: str | bytes) -> LocalAccount:
    from eth_account import Account

    try:
        return Account.from_key(private_key)
    except (ValueError, TypeError) as exc:
        raise UploadRejected(
            f"the private key is not a valid secp256k1 key ({exc})",
            hint="pass 32 bytes or a 0x-prefixed hex string of 64 digits",
        ) from None


def plan_upload(
    path: str | os.PathLike[str],
    *,
    private_key: str | bytes,
    name: str,
    version: str,
    description: str,
) -> UploadPlan:
    """Hash the file and check the key, before anything is sent."""
    file = Path(path)
    try:
        with file.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").digest()
        size = file.stat().st_size
    except OSError as exc:
        raise UploadRejected(
            f"cannot read {file}: {exc.strerror or exc}", hint="check the path"
        ) from None
    return UploadPlan(
        path=file,
        size=size,
        digest=digest,
        owner=_load_key(private_key),
        name=name,
        version=version,
        description=description,
    )


def _show_progress(progress: Progress_, size: int) -> bool:
    if progress == "always":
        return True
    return bool(progress) and size >= PROGRESS_THRESHOLD and sys.stderr.isatty()


@contextlib.contextmanager
def open_for_upload(plan: UploadPlan, progress: Progress_) -> Iterator[IO[bytes]]:
    """The file to stream; wrapped so reads advance a rich progress bar when one is shown.

    httpx reads the multipart body in 64 KiB chunks, so the bar follows the bytes actually
    sent; the wrapper keeps ``fileno()`` so httpx still sends a Content-Length.
    """
    with plan.path.open("rb") as fh:
        if not _show_progress(progress, plan.size):
            yield fh
            return
        bar = Progress(
            TextColumn("[bold]upload[/] {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        with bar:
            yield bar.wrap_file(fh, total=plan.size, description=plan.path.name)


def check_uploaded(plan: UploadPlan, cid: str) -> None:
    """The CID the hub assigned must be the sha256 of the bytes this client sent."""
    try:
        assigned = cid_digest(parse_model_cid(cid))
    except ProtocolError as exc:
        raise HubError(f"the hub returned an unreadable model CID {cid!r}: {exc}") from None
    if assigned != plan.digest:
        raise HubError(
            f"the hub stored {plan.path.name} under {cid}, which is not the CID of its bytes",
            hint="the hub or the connection corrupted the upload; upload again",
        )


class DownloadWriter:
    """Writes a model file to a temp file beside ``dest``, hashing as it goes; ``commit``
    renames it into place only when its sha256 matches the CID, so ``dest`` is never half-written."""

    def __init__(self, cid: str, dest: str | os.PathLike[str]) -> None:
        self.cid = checked_cid(cid)
        target = Path(dest)
        self.path = target / f"{self.cid}.onnx" if target.is_dir() else target
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._hash = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".download-", suffix=".part")
        self._tmp = Path(tmp)
        self._fh = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self._fh.write(chunk)

    def commit(self) -> Path:
        self._fh.close()
        if self._hash.digest() != cid_digest(self.cid):
            self._tmp.unlink(missing_ok=True)
            raise HubError(
                f"the file the hub served for {self.cid} does not match that CID",
                hint="the hub's store is corrupt or the connection altered it; try another hub",
            )
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        self._fh.close()
        self._tmp.unlink(missing_ok=True)
