# Four inferences at once with the async client: python async_infer.py <model CID>
import asyncio
import os
import sys

import numpy as np

from hub_client import AsyncHubClient

HUB_URL = os.environ.get("NEUROSTACK_HUB_URL", "http://127.0.0.1:8600")


async def main(cid: str) -> None:
    rng = np.random.default_rng(0)
    async with AsyncHubClient(HUB_URL) as hub:
        results = await asyncio.gather(
            *(hub.infer(cid, {"x": rng.normal(size=(1, 4)).astype(np.float32)}) for _ in range(4))
        )
    print([r.arrays()["y"].item() for r in results])


asyncio.run(main(sys.argv[1]))
