"""Data sets the project generates itself (nothing is downloaded)."""

from .synthetic_shop import synthetic_shop

__all__ = ["synthetic_shop"]
