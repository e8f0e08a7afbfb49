"""The rollup-to-hub path: inference requests become Celery jobs; first valid result wins."""
