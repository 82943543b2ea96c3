"""Explanations: attention per layer and head, rollout, importance methods, faithfulness."""

from .attention import attention_rollout, distribution_stats
from .explanation import Explanation, explain, explain_history, explain_indices
from .faithfulness import eraser_scores, kendall_tau, top1_agreement
from .importance import METHODS
from .report import faithfulness_report, planted_cause_hits

__all__ = [
    "METHODS",
    "Explanation",
    "attention_rollout",
    "distribution_stats",
    "eraser_scores",
    "explain",
    "explain_history",
    "explain_indices",
    "faithfulness_report",
    "kendall_tau",
    "planted_cause_hits",
    "top1_agreement",
]
