"""The explorer in a real browser (headless Chromium) on the real stack: live home page,
an inference transaction's page (model, output equal to onnxruntime's, verified), a
tampered proof (not verified, with the reason), search for each kind of thing, pending
inference through PIPE, model and sprinter pages, and an ``evm_revert`` followed live."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from neurostack.explorer import ExplorerServer, ExplorerSettings
from neurostack.protocol import array_to_tensor
from tests.e2e.models import DECIMALS, FEATURES, mlp_output
from tests.e2e.stack import Options, RollupStack

from .browser import chromium
from .devnet import DEAD, ROYALTY_BPS, History, populate, predict_data
from .waits import wait_indexed

pytestmark = pytest.mark.slow

BLOCK_TIME = 1.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RollupStack]:
    options = Options(workers=1, block_time=BLOCK_TIME, worker_delay=0.8)
    with RollupStack(tmp_path_factory.mktemp("explorer-stack"), options) as s:
        yield s


@pytest.fixture(scope="module")
def explorer(
    stack: RollupStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExplorerServer]:
    settings = ExplorerSettings(stack.rpc_url, tmp_path_factory.mktemp("explorer"),
                                poll_interval=0.1)  # fmt: skip
    with ExplorerServer(settings) as server:
        yield server


@pytest.fixture(scope="module")
def history(stack: RollupStack, explorer: ExplorerServer) -> History:
    found = populate(stack)
    wait_indexed(explorer, int(stack.rpc("eth_blockNumber"), 16))
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = chromium()
    yield driver
    driver.quit()


def wait(driver: WebDriver, timeout: float, what: Any) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(what)


def text(driver: WebDriver, css: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, css).text)


def test_home_lists_the_newest_block_within_two_block_times_without_a_reload(
    stack: RollupStack, explorer: ExplorerServer, history: History, browser: WebDriver
) -> None:
    browser.get(explorer.url + "/")
    browser.execute_script("window.notReloaded = true;")
    tx = stack.send(stack.accounts[3], DEAD, value=1, gas=21_000)
    receipt = stack.wait_receipt(tx)
    seen = time.monotonic()
    number = int(receipt["blockNumber"], 16)

    wait(browser, 2 * BLOCK_TIME,
         lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-block="{number}"]'))  # fmt: skip
    took = time.monotonic() - seen
    assert browser.execute_script("return window.notReloaded === true;")
    assert browser.find_elements(By.CSS_SELECTOR, f'tr[data-tx="{tx}"]')
    print(f"block {number} on the home page {took:.2f} s after its receipt")


def output_values(driver: WebDriver) -> list[tuple[int, int]]:
    cells = driver.find_elements(By.CSS_SELECTOR, '[data-tensor="output"] td[data-value]')
    return [(int(c.get_attribute("data-value")), int(c.get_attribute("data-decimals")))
            for c in cells]  # fmt: skip


def test_inference_tx_page_shows_the_model_the_onnxruntime_output_and_verified(
    explorer: ExplorerServer, history: History, browser: WebDriver
) -> None:
    browser.get(f"{explorer.url}/tx/{history.predict}")

    assert text(browser, ".model-cid") == history.cid
    expected = array_to_tensor("y", mlp_output(FEATURES)).values  # as the chain encodes it
    assert output_values(browser) == [(n.value, n.decimals) for n in expected]  # type: ignore[union-attr]
    inputs = browser.find_elements(By.CSS_SELECTOR, '[data-tensor="input"] td[data-value]')
    assert [int(c.get_attribute("data-value")) for c in inputs] == FEATURES
    assert {int(c.get_attribute("data-decimals")) for c in inputs} == {DECIMALS}
    assert text(browser, "#verdict") == "verified"
    checks = browser.find_elements(By.CSS_SELECTOR, ".checks li")
    assert len(checks) >= 6 and all(c.get_attribute("class") == "good" for c in checks)
    assert f"--tx {history.predict}" in text(browser, ".cmd")
    assert "Model owner" in text(browser, "#fee-split")


def test_fee_split_matches_the_model_owners_balance(
    stack: RollupStack, explorer: ExplorerServer, history: History, browser: WebDriver
) -> None:
    block = history.predict_block
    earned = stack.balance(history.model_owner, block) - stack.balance(
        history.model_owner, block - 1
    )
    browser.get(f"{explorer.url}/tx/{history.predict}")
    amounts = [int(c.get_attribute("data-amount"))
               for c in browser.find_elements(By.CSS_SELECTOR, "#fee-split td[data-amount]")]  # fmt: skip
    burned, tip, to_sprinter, to_owner = amounts
    receipt = stack.rpc("eth_getTransactionReceipt", history.predict)
    fee = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
    assert burned + tip + to_sprinter + to_owner == fee
    assert earned == to_owner > 0
    assert to_owner * 10_000 // (to_owner + to_sprinter) in (ROYALTY_BPS - 1, ROYALTY_BPS)


class TamperedProofs(httpx.HTTPTransport):
    """A test double of the node: proofs come back with one byte of the output changed."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if b"neuro_getInferenceProof" not in request.content:
            return response
        reply = json.loads(response.read())
        for item in reply if isinstance(reply, list) else [reply]:
            receipt = (item.get("result") or {}).get("receipt")
            if receipt:
                out = receipt["output"]
                receipt["output"] = out[:-2] + ("00" if out[-2:] != "00" else "01")
        return httpx.Response(response.status_code, json=reply)


def test_a_tampered_proof_shows_not_verified_with_the_reason(
    stack: RollupStack, history: History, browser: WebDriver, tmp_path: Path
) -> None:
    settings = ExplorerSettings(stack.rpc_url, tmp_path, follow=False, transport=TamperedProofs())
    with ExplorerServer(settings) as tampered:
        browser.get(f"{tampered.url}/tx/{history.predict}")
        assert text(browser, "#verdict") == "not verified"
        reason = text(browser, ".reason")
        assert "output" in reason.lower() or "hash" in reason.lower(), reason
        failed = browser.find_elements(By.CSS_SELECTOR, ".checks li.bad")
        assert failed, "the failing checks are named"


def search(driver: WebDriver, url: str, query: str) -> str:
    """Type ``query`` into the search box of the page shown; return where it led."""
    page = driver.find_element(By.TAG_NAME, "html")
    box = driver.find_element(By.ID, "search")
    box.clear()
    box.send_keys(query)
    box.submit()
    wait(driver, 10, staleness_of(page))  # the next page has loaded
    return str(driver.current_url)


def test_search_finds_each_kind_of_thing(
    stack: RollupStack, explorer: ExplorerServer, history: History, browser: WebDriver
) -> None:
    block = stack.rpc("eth_getBlockByNumber", hex(history.predict_block), False)
    cases = {
        str(history.predict_block): f"/block/{history.predict_block}",
        block["hash"]: f"/block/{block['hash']}",
        history.predict: f"/tx/{history.predict}",
        history.consumer: f"/address/{history.consumer.lower()}",
        history.cid: f"/model/{history.cid}",
        history.request_id: f"/tx/{history.predict}",
    }
    browser.get(explorer.url + "/models")
    for query, path in cases.items():
        assert path in search(browser, explorer.url, query), query
    search(browser, explorer.url, "0x" + "ab" * 32)
    assert "no block, transaction or inference request" in text(browser, "#message")


def test_model_and_sprinter_pages(
    stack: RollupStack, explorer: ExplorerServer, history: History, browser: WebDriver
) -> None:
    browser.get(f"{explorer.url}/model/{history.cid}")
    registry = text(browser, "#registry")
    assert history.model_owner.lower()[:8] in registry.lower() and "60,000 gas" in registry
    assert "15.0 %" in registry and "Registered" in registry  # its ModelRegistered log
    assert int(text(browser, "#calls")) >= 1
    sprinter = browser.find_element(By.CSS_SELECTOR, "#sprinters a").get_attribute("title")
    assert sprinter in {a.lower() for a in stack.sprinters.values()}
    browser.get(f"{explorer.url}/sprinter/{sprinter}")
    assert "active" in text(browser, "#owner-added")
    assert int(text(browser, "#served")) >= 1


def test_pending_inference_is_followed_through_pipe(
    stack: RollupStack, explorer: ExplorerServer, history: History, browser: WebDriver
) -> None:
    tx = stack.send(stack.accounts[4], history.consumer, predict_data(history.cid, [1, 2, 3, 4]))
    browser.get(f"{explorer.url}/tx/{tx}")
    # Sprinters take 0.8 s a job: the page shows PIPE's status, then reloads once mined.
    wait(browser, 30, lambda d: d.find_elements(By.CSS_SELECTOR, "#status .good"))
    history_row = text(browser, "#history")
    assert "included" in history_row and ("parked" in history_row or "dispatched" in history_row)
    browser.get(explorer.url + "/")
    wait(browser, 10, lambda d: text(d, "#median-wait").endswith(" s"))


def test_an_evm_revert_is_followed_without_a_restart(
    stack: RollupStack, explorer: ExplorerServer, history: History, browser: WebDriver
) -> None:
    """The chain goes back and grows another block at the same height; the page (open all
    along) shows the new one and forgets the undone one. (A node reset on the same URL is
    followed too: test_follower.py.)"""
    snapshot = stack.rpc("evm_snapshot")
    undone = stack.send(stack.accounts[1], DEAD, value=5, gas=21_000)
    height = int(stack.wait_receipt(undone)["blockNumber"], 16)
    browser.get(explorer.url + "/")
    browser.execute_script("window.notReloaded = true;")
    wait(browser, 10, lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-tx="{undone}"]'))

    stack.rpc("evm_revert", snapshot)
    replacement = stack.send(stack.accounts[6], DEAD, value=7, gas=21_000)
    receipt = stack.wait_receipt(replacement)
    assert int(receipt["blockNumber"], 16) == height  # another block at the same height
    wait(browser, 10, lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-tx="{replacement}"]'))
    assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-tx="{undone}"]')
    assert browser.execute_script("return window.notReloaded === true;")
    block = stack.rpc("eth_getBlockByNumber", hex(height), False)
    browser.get(f"{explorer.url}/block/{height}")
    assert block["hash"] in browser.page_source and replacement in browser.page_source
    assert undone not in browser.page_source
    assert httpx.get(explorer.url + "/health").json()["reorgs"] >= 1
