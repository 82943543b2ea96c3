"""Explanations: attention per layer and head, rollout, importance methods, faithfulness."""

from .attention import attention_rollout, distribution_stats
from .explanation import Explanation, explain, explain_history, explain_indices
from .faithfulness import eraser_scores, kendall_tau, top1_agreement
from .importance import METHODS
from .report import (
    Agreement,
    faithfulness_report,
    method_agreement,
    planted_cause_hits,
    sample_users,
)

__all__ = [
    "METHODS",
    "Agreement",
    "Explanation",
    "attention_rollout",
    "distribution_stats",
    "eraser_scores",
    "explain",
    "explain_history",
    "explain_indices",
    "faithfulness_report",
    "kendall_tau",
    "method_agreement",
    "planted_cause_hits",
    "sample_users",
    "top1_agreement",
]
