"""The reference inference hub: model registry API, Celery sprinter workers, model store.

Modules: ``app`` (``create_app(settings)``, the only place the FastAPI app is built),
``registry`` / ``inference`` / ``health`` (one APIRouter per area), ``store`` (the
content-addressed model store), ``upload`` (streamed multipart and owner signatures),
``dispatch`` (sending jobs, speculative duplicates, waiting for results), ``celery_app``
(the Celery factory), ``tasks`` (the thin ``neurostack.infer`` task), ``sprinter`` (what
a worker does with a job), ``sandbox`` / ``sandbox_child`` / ``sandbox_wire`` (the
memory-limited processes that load and run models, bounded in time), ``sessions``
(onnxruntime sessions and provider choice, inside a sandbox), ``model_policy`` (a model is
only its own bytes), ``identity`` (the hub id uploads are signed for, ``GET /v1/hub``),
``worker`` (the worker bootstrap), ``broker`` (embedded redis-server), ``settings``,
``errors``, ``samples`` (the two sample models). See docs/hub.md and docs/security.md.
"""
