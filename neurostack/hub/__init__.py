"""The reference inference hub: model registry API, Celery sprinter workers, model store.

Modules: ``app`` (``create_app(settings)``, the only place the FastAPI app is built),
``registry`` / ``inference`` / ``health`` (one APIRouter per area), ``store`` (the
content-addressed model store), ``upload`` (streamed multipart and owner signatures),
``dispatch`` (sending jobs, speculative duplicates, waiting for results), ``celery_app``
(the Celery factory), ``tasks`` (the thin ``neurostack.infer`` task), ``sprinter`` (what
a worker does with a job), ``sessions`` (onnxruntime sessions and provider choice),
``worker`` (the worker bootstrap), ``broker`` (embedded redis-server), ``settings``,
``errors``, ``samples`` (the two sample models). See docs/hub.md.
"""
