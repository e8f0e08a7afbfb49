# `neurostack new` from Python, and the supervisor `neurostack up` runs its services with.
import sys
import tempfile
import threading
from pathlib import Path

import httpx

from neurostack.devnet.project import create_project
from neurostack.devnet.supervisor import ServiceSpec, Supervisor
from neurostack.hub.broker import free_port

work = Path(tempfile.mkdtemp())
folder = create_project("mychain", work, {"chain_id": 777, "token_symbol": "MYC"})
print("created", folder / "chain.toml")


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


port = free_port()
web = ServiceSpec(
    "web",
    [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
    ready_check=lambda: answers(f"http://127.0.0.1:{port}/"),  # polled until True
)
with Supervisor(work / "logs") as supervisor:  # any processes; stops them all on exit
    supervisor.start([web])  # returns once ready; ServiceNotReady / ServiceExited otherwise
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()  # Ctrl-C sets it in `neurostack up`
    supervisor.watch(stop)  # blocks; raises ServiceExited if a service dies meanwhile
print("web served on port", port, "and stopped")
