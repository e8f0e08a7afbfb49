"""The explorer's pages against a real node (py-evm + JSON-RPC over HTTP), through HTTP:
what each page shows, bad input everywhere, and that nothing is ever written to the chain."""

from __future__ import annotations

import html
import urllib.parse
from pathlib import Path

import httpx
import pytest
from eth_abi import encode
from eth_utils import keccak

from neurostack.explorer import ExplorerServer, ExplorerSettings
from neurostack.explorer.node import READ_METHODS, NodeReader
from neurostack.solidity import load_artifact

from .chain import DevChain
from .waits import wait_indexed

DEAD = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture(scope="module")
def history(chain: DevChain, explorer: ExplorerServer) -> dict[str, str]:
    """Transfers, a contract deployment and a call that emits an event, all indexed."""
    transfer = chain.send(DEAD, value=10**15)
    chain.mine()
    artifact = load_artifact("SimpleStorage")
    deploy = chain.send(None, data=artifact.bytecode + encode(["uint256"], [7]), gas=1_000_000)
    chain.mine()
    contract = chain.rpc("eth_getTransactionReceipt", deploy)["contractAddress"]
    call = chain.send(contract, data=keccak(text="set(uint256)")[:4] + encode(["uint256"], [42]),
                      gas=200_000)  # fmt: skip
    head = chain.mine()
    wait_indexed(explorer, head)
    return {"transfer": transfer, "deploy": deploy, "contract": contract, "call": call}


def text_of(page: str) -> str:
    """The page's visible text, roughly (tags dropped, entities decoded)."""
    import re

    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def get(explorer: ExplorerServer, path: str) -> httpx.Response:
    return httpx.get(explorer.url + path, follow_redirects=True, timeout=30)


def test_tx_page_shows_status_fee_and_decoded_call_and_log(
    explorer: ExplorerServer, history: dict[str, str]
) -> None:
    page = get(explorer, f"/tx/{history['call']}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "success" in text
    assert "SimpleStorage.set" in text and "set(uint256)" in text and "42" in text
    assert "ValueChanged" in text  # the log, decoded with the shipped artifact's ABI
    assert "Burned (base fee)" in text and "Tip to the block producer" in text


def test_block_page_lists_every_header_field_and_its_transactions(
    chain: DevChain, explorer: ExplorerServer, history: dict[str, str]
) -> None:
    receipt = chain.rpc("eth_getTransactionReceipt", history["transfer"])
    number = int(receipt["blockNumber"], 16)
    block = chain.rpc("eth_getBlockByNumber", hex(number), False)
    page = get(explorer, f"/block/{number}").text
    for name in ("parentHash", "stateRoot", "receiptsRoot", "logsBloom", "extraData",
                 "baseFeePerGas", "mixHash", "requestsHash"):  # fmt: skip
        assert f'data-field="{name}"' in page, name
    assert "inferenceRoot" in page and block["hash"] in page and history["transfer"] in page
    by_hash = get(explorer, f"/block/{block['hash']}")
    assert by_hash.status_code == 200 and f"Block {number}" in text_of(by_hash.text)


def test_block_page_of_a_block_the_index_does_not_hold_reads_the_receipts(
    chain: DevChain, history: dict[str, str], tmp_path: Path
) -> None:
    receipt = chain.rpc("eth_getTransactionReceipt", history["deploy"])
    settings = ExplorerSettings(chain.url, tmp_path, follow=False)  # an empty index
    with ExplorerServer(settings) as fresh:
        text = text_of(get(fresh, f"/block/{int(receipt['blockNumber'], 16)}").text)
    assert history["deploy"][:8] in text and "create" in text
    assert f"{int(receipt['gasUsed'], 16):,}" in text


def test_address_page_lists_the_accounts_transactions_from_the_index(
    chain: DevChain, explorer: ExplorerServer, history: dict[str, str]
) -> None:
    sender = chain.accounts[0].address
    text = text_of(get(explorer, f"/address/{sender}").text)
    assert "Transactions (3)" in text
    for h in ("transfer", "deploy", "call"):
        assert history[h][:8] in text
    contract = text_of(get(explorer, f"/address/{history['contract']}").text)
    assert "SimpleStorage" in contract and "Transactions (2)" in contract  # created + called
    dead = text_of(get(explorer, f"/address/{DEAD}").text)
    assert "0.001 NEURO" in dead and "externally owned" in dead


def test_search_finds_blocks_transactions_and_addresses(
    chain: DevChain, explorer: ExplorerServer, history: dict[str, str]
) -> None:
    block = chain.rpc("eth_getBlockByNumber", "0x1", False)
    cases = {
        "1": "/block/1",
        block["hash"]: f"/block/{block['hash']}",
        history["transfer"]: f"/tx/{history['transfer']}",
        history["contract"].upper().replace("0X", "0x"): f"/address/{history['contract']}",
        f"  {history['call']}  ": f"/tx/{history['call']}",
    }
    for query, path in cases.items():
        found = httpx.get(explorer.url + "/search", params={"q": query}, follow_redirects=True)
        assert found.status_code == 200, query
        assert found.url.path == path.lower() or found.url.path == path, (query, found.url)


HOSTILE = [
    "x" * 5000,  # overlong
    "0x" + "g" * 64,  # not hex
    "0x" + "ab" * 33,  # a hash of the wrong length
    "-1",  # negative
    "1" * 40,  # past any block number
    str(2**63),
    "9223372036854775807",  # the largest block number: fine, but no such block
    "ｂｌｏｃｋ１",  # unicode
    "é\u202e\u0000",  # right-to-left override, NUL
    "..%2F..%2Fetc%2Fpasswd",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "bafkreiXXXX",  # not a CID
    "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",  # a CIDv0, not a model id
    "0x" + "00" * 32,  # well-formed, names nothing
]


@pytest.mark.parametrize("bad", HOSTILE)
def test_invalid_input_anywhere_is_a_404_page_with_an_escaped_message(
    explorer: ExplorerServer, bad: str
) -> None:
    quoted = "/block/" + urllib.parse.quote(bad, safe="%")  # %2F stays escaped
    for url in (
        f"/search?{httpx.QueryParams({'q': bad})}",
        quoted,
        quoted.replace("/block/", "/tx/", 1),
        quoted.replace("/block/", "/address/", 1),
        quoted.replace("/block/", "/model/", 1),
        quoted.replace("/block/", "/sprinter/", 1),
    ):
        page = httpx.get(explorer.url + url, follow_redirects=True, timeout=30)
        assert page.status_code == 404, (url, page.status_code)
        assert 'id="message"' in page.text and "Traceback" not in page.text
        # What the user typed comes back escaped, never as markup.
        assert "<script>alert" not in page.text and "<img src=x" not in page.text


@pytest.mark.parametrize(
    "path",
    ["/static/../../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/nope",
     "/block/1/extra", "/address/0x00/../../etc", "/live/tx/nothex", "/address/0x"
     + "00" * 20 + "?page=-1", "/address/0x" + "00" * 20 + "?page=99999999"],
)  # fmt: skip
def test_invalid_paths_are_404_pages(explorer: ExplorerServer, path: str) -> None:
    page = httpx.get(explorer.url + path, timeout=30)
    assert page.status_code == 404, path
    assert "root:" not in page.text and "Traceback" not in page.text


def test_invalid_node_unreachable_is_a_503_page(tmp_path: Path) -> None:
    settings = ExplorerSettings("http://127.0.0.1:9", tmp_path, follow=False)
    with ExplorerServer(settings) as server:
        page = httpx.get(server.url + "/block/1")
        assert page.status_code == 503 and "Is the node running?" in page.text


def test_the_explorer_sends_only_read_methods(chain: DevChain) -> None:
    """A guard, not a convention: a write method never leaves the reader."""
    assert not {m for m in READ_METHODS if "send" in m.lower() or m.startswith("evm_")}
    reader = NodeReader(chain.url)
    for method in ("eth_sendRawTransaction", "evm_mine", "evm_revert", "eth_sendTransaction"):
        with pytest.raises(ValueError, match="only reads"):
            reader.call(method, "0x00")
    reader.close()


def test_pages_leave_the_chain_untouched(
    chain: DevChain, explorer: ExplorerServer, history: dict[str, str]
) -> None:
    head = chain.rpc("eth_blockNumber")
    pending = chain.rpc("eth_getBlockTransactionCountByNumber", "pending")
    for path in ("/", f"/tx/{history['call']}", f"/address/{history['contract']}", "/block/2",
                 "/models", f"/search?q={history['deploy']}"):  # fmt: skip
        assert get(explorer, path).status_code == 200
    assert chain.rpc("eth_blockNumber") == head
    assert chain.rpc("eth_getBlockTransactionCountByNumber", "pending") == pending
