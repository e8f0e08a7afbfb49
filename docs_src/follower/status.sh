# Ask a follower where it stands (the same answer comes from any JSON-RPC client).
curl -s -X POST http://127.0.0.1:8546 -H 'content-type: application/json' \
  -d '{"jsonrpc": "2.0", "id": 1, "method": "neuro_syncStatus", "params": []}'
