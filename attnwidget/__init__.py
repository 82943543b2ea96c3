"""attnwidget: see why a transformer recommender recommends what it does."""

from .data import Catalog, Dataset, load_csv, load_movielens, load_recbole
from .datasets import synthetic_shop
from .errors import (
    AttnWidgetError,
    CheckpointError,
    DataError,
    EmptyHistoryError,
    UnknownItemError,
    UnknownUserError,
)
from .evaluate import PopularityBaseline, evaluate
from .models import SASRec, SASRecConfig, fit

__version__ = "0.1.0"

__all__ = [
    "AttnWidgetError",
    "Catalog",
    "CheckpointError",
    "DataError",
    "Dataset",
    "EmptyHistoryError",
    "PopularityBaseline",
    "SASRec",
    "SASRecConfig",
    "UnknownItemError",
    "UnknownUserError",
    "evaluate",
    "fit",
    "load_csv",
    "load_movielens",
    "load_recbole",
    "synthetic_shop",
]
