"""The hub's identity: the 32-byte id that upload signatures are bound to, and
``GET /v1/hub``, which tells clients what to sign.

The id is the ``salt`` of the EIP-712 domain of uploads (``neurostack.protocol.uploads``):
an owner's signature for one hub is refused by every other. It is generated once, at
random, and kept in the store (``<store>/hub-id``), so every API process sharing the
store has the same id and a restart keeps it; the ``hub_id`` setting overrides it (for
API processes with separate stores that must act as one hub).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends

import neurostack
from neurostack.protocol.uploads import (
    UPLOAD_DOMAIN_NAME,
    UPLOAD_DOMAIN_VERSION,
    UPLOAD_PRIMARY_TYPE,
    UPLOAD_TYPES,
    InvalidHubId,
    parse_hub_id,
)

from .context import HubContext, hub_context
from .errors import SettingsError
from .settings import HubSettings

ID_FILE = "hub-id"

router = APIRouter(tags=["hub"])
Ctx = Annotated[HubContext, Depends(hub_context)]


def load_hub_id(settings: HubSettings) -> bytes:
    """The configured hub id, else the store's (created on first use)."""
    if settings.hub_id:
        try:
            return parse_hub_id(settings.hub_id)
        except InvalidHubId as exc:
            raise SettingsError(f"{exc} (option --hub-id or NEUROSTACK_HUB_HUB_ID)") from None
    path = Path(settings.store_dir) / ID_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes starting at once, one writes the id, both read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write("0x" + secrets.token_bytes(32).hex() + "\n")
            f.flush()
            os.fsync(f.fileno())
    try:
        return parse_hub_id(path.read_text())
    except (OSError, InvalidHubId) as exc:
        raise SettingsError(
            f"cannot read the hub id from {path}: {exc}; remove the file to get a new id "
            "(models stay, owners sign new uploads for the new id)"
        ) from None


@router.get("/v1/hub")
async def hub_info(ctx: Ctx) -> dict[str, Any]:
    """This hub's id and the EIP-712 domain and types an owner signs an upload with
    (``eth_signTypedData_v4``; see ``POST /v1/models``)."""
    return {
        "hubId": "0x" + ctx.hub_id.hex(),
        "version": neurostack.__version__,
        "upload": {
            "primaryType": UPLOAD_PRIMARY_TYPE,
            "types": UPLOAD_TYPES,
            "domain": {
                "name": UPLOAD_DOMAIN_NAME,
                "version": UPLOAD_DOMAIN_VERSION,
                "salt": "0x" + ctx.hub_id.hex(),
            },
        },
    }
