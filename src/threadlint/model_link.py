"""`runner.py` asks this name for the modules to analyse in a further round.

The function lives with the rest of the project link, in `threadlint.link`;
this import keeps the runner's spelling working until it imports from there.
"""

from __future__ import annotations

from threadlint.link import modules_to_analyse

__all__ = ["modules_to_analyse"]
