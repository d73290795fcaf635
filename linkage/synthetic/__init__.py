"""Synthetic agency extracts for Nepal: realistic hard cases for linkage, with the truth.

Public API::

    from linkage.synthetic import generate, write, SynthConfig
    data = generate(people=5000, seed=7)   # SyntheticData: extracts, truth, people
    write(data, "data/extracts")           # shelter.csv, ocmc.csv, migration.csv, truth.csv

The truth (and `data.people`) are for evaluation only and must never travel with extracts.
"""

from linkage.synthetic.config import DEFAULT_CONFIG, SOURCE_TYPES, SynthConfig
from linkage.synthetic.generator import SyntheticData, generate
from linkage.synthetic.records import CONTRACT_COLUMNS
from linkage.synthetic.writer import write

__all__ = [
    "CONTRACT_COLUMNS",
    "DEFAULT_CONFIG",
    "SOURCE_TYPES",
    "SynthConfig",
    "SyntheticData",
    "generate",
    "write",
]
