make lint                       # ruff check, import-linter contracts, mypy (all four packages)
.venv/bin/ruff format --check FILES   # formatting of the files you touched
duplicates --most 40            # pairs of places sharing 6+ lines (a place to look, not a verdict)
duplicates --change             # only what your uncommitted change wrote again
