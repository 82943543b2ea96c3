"""Models: SASRec with feature attention, its training loop and checkpoints."""

from .sasrec import SASRec, SASRecConfig, SASRecOutput
from .training import fit

__all__ = ["SASRec", "SASRecConfig", "SASRecOutput", "fit"]
