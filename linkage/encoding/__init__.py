"""linkage/encoding."""
