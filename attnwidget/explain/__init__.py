"""Explanations: attention per layer and head, rollout, distribution figures."""

from .attention import attention_rollout, distribution_stats
from .explanation import Explanation, explain_indices, explain_items, explain_user

__all__ = [
    "Explanation",
    "attention_rollout",
    "distribution_stats",
    "explain_indices",
    "explain_items",
    "explain_user",
]
