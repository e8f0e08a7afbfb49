.venv/bin/python -m neurostack.solidity --build    # rewrite neurostack/contracts/
.venv/bin/python -m neurostack.solidity --check    # exit 1 if stale (the tests run this)
