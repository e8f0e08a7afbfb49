"""Errors of the reference hub (``neurostack.hub``).

Tree (HTTP status the API answers with, as ``{"detail": message}``)::

    HubError                                      root of every error this package raises (500)
    ├── SettingsError(HubError, ValueError)       a setting or key file is unusable
    ├── BrokerError(HubError, RuntimeError)        the embedded Redis could not start (503)
    ├── RequestError(HubError, ValueError)         a bad API request (400)
    │   ├── InvalidInferenceRequest(RequestError)  input does not fit the model, bad mode (422)
    │   ├── ZkNotReady(RequestError)               mode ZK while the model's setup runs (409)
    │   └── JobNotFound(RequestError, KeyError)    unknown job id (404)
    ├── StoreError(HubError)                       the model store refused an operation
    │   ├── ModelTooLarge(StoreError, ValueError)  upload exceeds ``max_upload_bytes`` (413)
    │   ├── InvalidModel(StoreError, ValueError)   not ONNX, corrupt, fails ``onnx.checker`` (422)
    │   ├── InvalidUpload(StoreError, ValueError)  malformed form fields (422)
    │   ├── UploadUnauthorized(StoreError, PermissionError)  missing/malformed signature (401)
    │   ├── UploadForbidden(StoreError, PermissionError)     signed by another key (403)
    │   └── ModelNotFound(StoreError, KeyError)    no model with that CID (404)
    └── SprinterError(HubError)                    a worker could not serve a job
        ├── TransientError(SprinterError)          worth retrying: broker, disk, hub download
        ├── Avoided(SprinterError)                 the job asks this sprinter to leave it to others
        └── JobRejected(SprinterError, ValueError) never retried: bad input, deadline (422)

Every message says what was wrong and what to do.
"""

from __future__ import annotations


class HubError(Exception):
    """Root of every error raised by :mod:`neurostack.hub`."""

    status_code = 500

    def __str__(self) -> str:  # KeyError subclasses would otherwise quote the message
        return str(self.args[0]) if self.args else type(self).__name__


class SettingsError(HubError, ValueError):
    """A hub setting (for example the worker key) is missing or malformed."""


class BrokerError(HubError, RuntimeError):
    """The Redis broker could not be started or reached."""

    status_code = 503


class RequestError(HubError, ValueError):
    """A malformed API request."""

    status_code = 400


class InvalidInferenceRequest(RequestError):
    """An inference request whose input does not fit the model, or an unserved mode."""

    status_code = 422


class ZkNotReady(RequestError):
    """Mode ZK for a model whose ZK setup is still running."""

    status_code = 409


class JobNotFound(RequestError, KeyError):
    status_code = 404


class StoreError(HubError):
    """The model store refused an operation."""

    status_code = 400


class ModelTooLarge(StoreError, ValueError):
    status_code = 413


class InvalidModel(StoreError, ValueError):
    status_code = 422


class InvalidUpload(StoreError, ValueError):
    status_code = 422


class UploadUnauthorized(StoreError, PermissionError):
    status_code = 401


class UploadForbidden(StoreError, PermissionError):
    status_code = 403


class ModelNotFound(StoreError, KeyError):
    status_code = 404


class SprinterError(HubError):
    """A sprinter (worker) could not serve a job."""


class TransientError(SprinterError):
    """A failure that may go away on retry (broker, disk, network)."""


class Avoided(SprinterError):
    """The job lists this sprinter in ``avoid``: its results are no use to the requester
    (its key is not admitted on that chain), so the job goes back for another sprinter."""


class JobRejected(SprinterError, ValueError):
    """A job that must not be retried: invalid input or a passed deadline."""

    status_code = 422
