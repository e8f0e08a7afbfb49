"""The explorer's exceptions: one root, each turned into a page by ``app.py``.

::

    ExplorerError                         root
    ├── NotFound(ExplorerError, LookupError)      the URL or search names nothing on this chain
    │                                             (404 page with the message)
    └── NodeUnavailable(ExplorerError, ConnectionError)   the node did not answer
                                                  (503 page: is the node running?)

Errors of the node's JSON-RPC reach the explorer as ``hub_client`` errors
(``RollupError`` and its subclasses); ``node.py`` turns the unreachable case into
:class:`NodeUnavailable` so pages need one handler for it.
"""

from __future__ import annotations


class ExplorerError(Exception):
    """Root of every error the explorer raises itself."""


class NotFound(ExplorerError, LookupError):
    """Nothing on this chain matches; ``str()`` says what was looked for and what to try."""


class NodeUnavailable(ExplorerError, ConnectionError):
    """The node's JSON-RPC could not be reached or answered garbage."""
