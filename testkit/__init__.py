"""Process and client helpers shared by tests/ and bench/: Redis, PostgreSQL and Chroma servers,
web and worker processes, a WebSocket chat client."""
