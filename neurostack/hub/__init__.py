"""The reference inference hub: model registry API, Celery sprinter workers, model store."""
