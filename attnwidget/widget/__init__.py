"""Widgets: the AttentionExplorer, its binary payload and the static HTML export."""

from .dashboard import Dashboard
from .explorer import AttentionExplorer
from .html_export import save_html

__all__ = ["AttentionExplorer", "Dashboard", "save_html"]
