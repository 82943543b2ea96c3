"""Data: datasets, item catalogues, feature fields and loaders."""

from .catalog import Catalog
from .dataset import Dataset, SplitExample
from .features import FeatureField
from .loaders import load_csv, load_movielens, load_recbole

__all__ = [
    "Catalog",
    "Dataset",
    "FeatureField",
    "SplitExample",
    "load_csv",
    "load_movielens",
    "load_recbole",
]
