"""WebSocket endpoints (flask-sock)."""
