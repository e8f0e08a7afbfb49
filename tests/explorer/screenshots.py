"""Regenerate the explorer screenshots of docs/explorer.md (``make screenshots``).

    python -m tests.explorer.screenshots docs/img/explorer

Starts the real stack (node, PIPE, hub, one sprinter), fills it with the browser tests'
history (transfers, contracts, a registered model, inference transactions), serves the
explorer and photographs its main pages in headless Chromium, at desktop and phone width.
Not part of the test run: a minute of work for pictures that change only with the pages.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

from neurostack.explorer import ExplorerServer, ExplorerSettings
from tests.e2e.stack import Options, RollupStack

from .browser import chromium
from .devnet import populate, predict_data

DESKTOP, PHONE = 1100, 390


def shoot(url: str, out: Path, pages: dict[str, str], width: int) -> None:
    driver = chromium(width, 900)
    try:
        for name, path in pages.items():
            driver.set_window_size(width, 900)  # measure each page from a normal window
            driver.get(url + path)
            time.sleep(0.5)  # the live script's first refresh
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(width, min(int(height) + 120, 4000))
            time.sleep(0.2)
            (out / f"{name}.png").write_bytes(driver.get_screenshot_as_png())
            print(f"{out / name}.png", file=sys.stderr)
    finally:
        driver.quit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as scratch,
        RollupStack(Path(scratch) / "stack", Options(workers=1, block_time=1.0)) as stack,
    ):
        settings = ExplorerSettings(stack.rpc_url, Path(scratch) / "explorer")
        with ExplorerServer(settings) as explorer:  # from the start: it times PIPE too
            history = populate(stack)
            for features in ([250, 500, -750, 1000], [1000, 0, 0, 125]):
                stack.transact(
                    stack.accounts[3], history.consumer, predict_data(history.cid, features)
                )
            head = int(stack.rpc("eth_blockNumber"), 16)
            while (httpx.get(explorer.url + "/health").json()["indexedHead"] or -1) < head:
                time.sleep(0.1)
            sprinter = next(iter(stack.sprinters.values())).lower()
            shoot(explorer.url, out, {
                "home": "/",
                "transaction": f"/tx/{history.predict}",
                "block": f"/block/{history.predict_block}",
                "model": f"/model/{history.cid}",
                "sprinter": f"/sprinter/{sprinter}",
                "address": f"/address/{history.consumer}",
            }, DESKTOP)  # fmt: skip
            shoot(explorer.url, out, {"phone-home": "/", "phone-transaction":
                                      f"/tx/{history.predict}"}, PHONE)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
