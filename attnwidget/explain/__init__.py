"""Explanations: attention per layer and head, rollout, importance methods, faithfulness."""

from .addition import Addition, find_addition
from .agreement import default_method, disagreement_note, method_agreement
from .attention import attention_rollout, distribution_stats, selected_attention
from .attention_metrics import (
    explanations_feature_mi,
    feature_mutual_information,
    mutual_information,
    occlusion_r2,
)
from .batch import explain_users
from .batch_parquet import read_explanations, write_explanations
from .compare import attention_difference, compare_recommendations
from .counterfactual import Counterfactual, find_counterfactual
from .explanation import Explanation, explain, explain_history, explain_indices
from .faithfulness import Agreement, eraser_scores, kendall_tau, top1_agreement
from .feature_edit import FeatureEdit, FeatureWhatIf, explain_with_features, feature_values
from .importance import FAST_METHODS, METHOD_INFO, METHODS
from .reasons import REASON_TEMPLATES, Reason, explain_reasons
from .report import faithfulness_report, planted_cause_hits, sample_users

__all__ = [
    "FAST_METHODS",
    "METHODS",
    "METHOD_INFO",
    "REASON_TEMPLATES",
    "Addition",
    "Agreement",
    "Counterfactual",
    "Explanation",
    "FeatureEdit",
    "FeatureWhatIf",
    "Reason",
    "attention_difference",
    "attention_rollout",
    "compare_recommendations",
    "default_method",
    "disagreement_note",
    "distribution_stats",
    "eraser_scores",
    "explain",
    "explain_history",
    "explain_indices",
    "explain_reasons",
    "explain_users",
    "explain_with_features",
    "explanations_feature_mi",
    "faithfulness_report",
    "feature_mutual_information",
    "feature_values",
    "find_addition",
    "find_counterfactual",
    "kendall_tau",
    "method_agreement",
    "mutual_information",
    "occlusion_r2",
    "planted_cause_hits",
    "read_explanations",
    "sample_users",
    "selected_attention",
    "top1_agreement",
    "write_explanations",
]
