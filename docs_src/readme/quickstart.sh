make up     # install, scaffold ./demo once, run it: devnet + reference hub + 2 workers
make test   # install, run the whole test suite
