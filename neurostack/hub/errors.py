"""Errors of the reference hub (``neurostack.hub``).

Tree::

    HubError                              root of every error this package raises
    ├── SettingsError(HubError, ValueError)   a setting or key file is unusable
    ├── BrokerError(HubError, RuntimeError)    the embedded Redis could not start / is unreachable
    ├── StoreError(HubError)                   the model store refused a model
    │   ├── ModelTooLarge(StoreError, ValueError)   upload exceeds ``max_upload_bytes`` (HTTP 413)
    │   ├── InvalidModel(StoreError, ValueError)    not ONNX, corrupt, or fails ``onnx.checker`` (422)
    │   ├── InvalidUpload(StoreError, ValueError)   malformed form fields (422)
    │   ├── UploadUnauthorized(StoreError, PermissionError)  missing/invalid signature (401)
    │   ├── UploadForbidden(StoreError, PermissionError)     signed by another key (403)
    │   └── ModelNotFound(StoreError, KeyError)     no model with that CID (404)
    └── SprinterError(HubError)                 a worker could not serve a job
        ├── TransientError(SprinterError)       worth retrying: broker, disk, hub download
        └── JobRejected(SprinterError, ValueError)  never retried: bad input, deadline passed

Every message says what was wrong and what to do; the HTTP layer returns it as
``{"detail": message}`` with the status code named above.
"""

from __future__ import annotations


class HubError(Exception):
    """Root of every error raised by :mod:`neurostack.hub`."""


class SettingsError(HubError, ValueError):
    """A hub setting (for example the worker key) is missing or malformed."""


class BrokerError(HubError, RuntimeError):
    """The Redis broker could not be started or reached."""


class StoreError(HubError):
    """The model store refused an operation; ``status_code`` is the HTTP status to answer."""

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

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return str(self.args[0]) if self.args else "model not found"


class SprinterError(HubError):
    """A sprinter (worker) could not serve a job."""


class TransientError(SprinterError):
    """A failure that may go away on retry (broker, disk, network)."""


class JobRejected(SprinterError, ValueError):
    """A job that must not be retried: invalid input or a passed deadline."""
