"""The Neuro Stack SDK: upload models, run inference, verify receipts, talk to neuro_* RPC."""
