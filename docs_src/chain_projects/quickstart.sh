neurostack new mychain --no-input          # or answer the questions without --no-input
cd mychain
neurostack up                              # Ctrl-C stops it; run it again to resume
pytest                                     # in a second terminal: the project's tests
