"""Per-file analysis: parsing, name resolution and the facts rules read."""
