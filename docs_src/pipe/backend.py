# sequencer/pipe/backend.py: what the sequencer needs from an inference service.
# bridge.CeleryBridge implements it; NoInference is the disabled stand-in.
from concurrent.futures import Future
from typing import Protocol

from neurostack.protocol.jobs import InferenceJob, JobResult, SignerCheck


class InferenceBackend(Protocol):
    def submit(self, job: InferenceJob, *, admissible: SignerCheck) -> Future[JobResult]: ...
