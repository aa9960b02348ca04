"""Plotting helpers (filled in by the book work)."""
__all__: list[str] = []
