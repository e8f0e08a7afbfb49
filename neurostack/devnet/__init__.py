"""Process supervision for ``neurostack up``: embedded Redis, hub, workers, node."""
