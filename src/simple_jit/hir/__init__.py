"""hir package."""
