"""attnwidget: see why a transformer recommender recommends what it does."""

from .data import Catalog, Dataset, load_csv, load_movielens, load_recbole
from .datasets import synthetic_shop
from .demo_model import demo_model
from .errors import (
    AdapterError,
    ArgumentTypeError,
    ArgumentValueError,
    AttentionNotFoundError,
    AttnWidgetError,
    CheckpointError,
    DataError,
    EmptyHistoryError,
    MissingDependencyError,
    NonFiniteScoresWarning,
    NothingToRecommendError,
    NothingToRecommendWarning,
    NoValidationWarning,
    PackError,
    TrainingDivergedError,
    TrainingDivergedWarning,
    UnknownItemError,
    UnknownUserError,
)
from .evaluate import PopularityBaseline, evaluate
from .explain import (
    Explanation,
    explain,
    explain_history,
    explain_users,
    faithfulness_report,
    planted_cause_hits,
    read_explanations,
    write_explanations,
)
from .models import SASRec, SASRecConfig, fit
from .widget import AttentionExplorer, Dashboard, save_html

__version__ = "0.1.0"

__all__ = [
    "AdapterError",
    "ArgumentTypeError",
    "ArgumentValueError",
    "AttentionExplorer",
    "AttentionNotFoundError",
    "AttnWidgetError",
    "Catalog",
    "CheckpointError",
    "Dashboard",
    "DataError",
    "Dataset",
    "EmptyHistoryError",
    "Explanation",
    "MissingDependencyError",
    "NoValidationWarning",
    "NonFiniteScoresWarning",
    "NothingToRecommendError",
    "NothingToRecommendWarning",
    "PackError",
    "PopularityBaseline",
    "SASRec",
    "SASRecConfig",
    "TrainingDivergedError",
    "TrainingDivergedWarning",
    "UnknownItemError",
    "UnknownUserError",
    "demo_model",
    "evaluate",
    "explain",
    "explain_history",
    "explain_users",
    "faithfulness_report",
    "fit",
    "load_csv",
    "load_movielens",
    "load_recbole",
    "planted_cause_hits",
    "read_explanations",
    "save_html",
    "synthetic_shop",
    "write_explanations",
]
