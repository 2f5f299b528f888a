"""wflow package."""
