"""Staging: one table per source type holding the validated rows of accepted batches."""
