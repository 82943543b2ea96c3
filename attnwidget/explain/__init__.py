"""Explanations: attention per layer and head, rollout, importance methods, faithfulness."""

from .agreement import default_method, disagreement_note, method_agreement
from .attention import attention_rollout, distribution_stats, selected_attention
from .batch import explain_users
from .batch_parquet import read_explanations, write_explanations
from .explanation import Explanation, explain, explain_history, explain_indices
from .faithfulness import Agreement, eraser_scores, kendall_tau, top1_agreement
from .importance import FAST_METHODS, METHOD_INFO, METHODS
from .report import faithfulness_report, planted_cause_hits, sample_users

__all__ = [
    "FAST_METHODS",
    "METHODS",
    "METHOD_INFO",
    "Agreement",
    "Explanation",
    "attention_rollout",
    "default_method",
    "disagreement_note",
    "distribution_stats",
    "eraser_scores",
    "explain",
    "explain_history",
    "explain_indices",
    "explain_users",
    "faithfulness_report",
    "kendall_tau",
    "method_agreement",
    "planted_cause_hits",
    "read_explanations",
    "sample_users",
    "selected_attention",
    "top1_agreement",
    "write_explanations",
]
