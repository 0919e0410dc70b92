"""mir package."""
