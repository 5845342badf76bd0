"""Loaders for the public evaluation datasets under shared/datasets (read in place, never copied)."""
