"""TL4xx: the GIL and processes."""
