# Beside a running sequencer (`neurostack up` in the chain's folder), with the chain's public
# chain.toml: verify every block, keep following, serve the verified chain on port 8546.
neurostack node --follow http://127.0.0.1:8545 --data-dir follower-data --rpc-port 8546

# Verify up to the sequencer's current head and exit: 0 when every block verified, 1 with
# the failure on stderr (a CI job, a cron check).
neurostack node --follow http://127.0.0.1:8545 --data-dir follower-data --once
