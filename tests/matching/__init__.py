"""Tests of the warehouse-side linkage engine (linkage.matching)."""
