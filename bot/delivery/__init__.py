"""Durable delivery: the outbox to the backend, pushes to residents, events from the backend."""
