"""The command line (``neurostack new|up|node|hub|model|infer``), the composition root."""
