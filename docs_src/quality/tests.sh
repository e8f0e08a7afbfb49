make test                                  # the whole suite: 4 workers, whole groups each
PYTEST_WORKERS=2 make test                 # fewer workers; PYTEST_WORKERS=0: one process
make test PYTEST_ARGS="tests/e2e -x"       # a part of it, as make test runs it
.venv/bin/python -m pytest tests/jobs/test_client.py -x     # one file in one process
.venv/bin/python -m pytest -p no:xdist tests/e2e/test_zk.py --pdb   # debugging: no xdist
