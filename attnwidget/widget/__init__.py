"""Widgets: the AttentionExplorer, the CompareExplorer, the binary payload and the static HTML
export."""

from .compare import CompareExplorer
from .dashboard import Dashboard
from .explorer import AttentionExplorer
from .html_export import save_html

__all__ = ["AttentionExplorer", "CompareExplorer", "Dashboard", "save_html"]
