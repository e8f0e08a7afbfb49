"""The Neuro Stack explorer: blocks, transactions, models, sprinters and proofs in a browser.

It reads only a node's public JSON-RPC (so it works against any Neuro Stack node or
verifier), never writes to the chain, keeps a small SQLite index by following blocks,
and serves server-rendered pages (FastAPI + Jinja2; CSS and JS ship in the package)::

    from neurostack.explorer import ExplorerServer, ExplorerSettings
    with ExplorerServer(ExplorerSettings(rpc_url, data_dir)) as explorer:
        print(explorer.url)

``neurostack explorer --rpc URL`` runs it from the command line; ``neurostack up`` starts
it with the devnet. See docs/explorer.md.
"""

from .app import create_app
from .context import Explorer, ExplorerSettings
from .server import ExplorerServer, serve
from .verify import TxVerification, verify_tx

__all__ = [
    "Explorer",
    "ExplorerServer",
    "ExplorerSettings",
    "TxVerification",
    "create_app",
    "serve",
    "verify_tx",
]
