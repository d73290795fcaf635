"""Linkage: feed loaded batches to the linkage engine (`linkage.matching`), train its model."""
