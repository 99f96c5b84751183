"""TL3xx: locks and conditions."""
