"""linkage/matching."""
