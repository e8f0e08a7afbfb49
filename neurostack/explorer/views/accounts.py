"""Address and sprinter pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .. import queries
from ..params import parse_address, parse_page
from ..registry import REGISTRY_HEX, read_admission
from .home import explorer_of

router = APIRouter()

PAGE_SIZE = 50


@router.get("/address/{address}", response_class=HTMLResponse)
def address_page(request: Request, address: str, page: str = "") -> HTMLResponse:
    ex = explorer_of(request)
    a = parse_address(address)
    number = parse_page(page)
    balance, nonce, code = ex.reader.account(a)
    count = queries.address_tx_count(ex.index, a)
    return ex.render(
        request,
        "address.html",
        address=a,
        balance=balance,
        nonce=nonce,
        code=code,
        contract=ex.abis.contract_name(code),
        is_registry=a == REGISTRY_HEX,
        is_sprinter=queries.sprinter_known(ex.index, a),
        txs=queries.address_txs(ex.index, a, PAGE_SIZE, (number - 1) * PAGE_SIZE),
        count=count,
        page=number,
        pages=max(1, -(-count // PAGE_SIZE)),
    )


@router.get("/sprinter/{address}", response_class=HTMLResponse)
def sprinter_page(request: Request, address: str) -> HTMLResponse:
    ex = explorer_of(request)
    a = parse_address(address)
    head = ex.reader.block("latest") or {}
    now = int(head.get("timestamp", "0x0"), 16)
    return ex.render(
        request,
        "sprinter.html",
        address=a,
        admission=read_admission(ex.reader, a),
        head_time=now,
        usage=queries.sprinter_usage(ex.index, a),
        failures=queries.sprinter_failures(ex.index, a),
    )
