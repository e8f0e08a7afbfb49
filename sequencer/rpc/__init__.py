"""JSON-RPC over HTTP and WebSocket (FastAPI/uvicorn)."""
