"""TL1xx: races on shared state (project rules over the concurrency model)."""
