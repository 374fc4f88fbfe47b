"""Shared test helpers: real redis-server processes, HTTP servers on loopback."""
