"""Statistical disclosure control for published counts (plain Python, no Dagster).

- `problem`: the generic model: cells (published or virtual) and additive relations.
- `suppression`: primary suppression (1..threshold-1) and the secondary-suppression heuristic.
- `audit`: `find_recoverable_cells`, exact linear algebra on the relations.
- `relations`: which relations hold in each published table (and which are exact sums).
- `tables`: `protect_tables`, apply all of it to the marts and return publishable frames.
"""

from pipelines.disclosure.audit import find_recoverable_cells, recoverable_in_problem
from pipelines.disclosure.problem import Problem
from pipelines.disclosure.suppression import PRIMARY, PUBLISHED, SECONDARY, suppress
from pipelines.disclosure.tables import protect_tables

__all__ = [
    "PRIMARY",
    "PUBLISHED",
    "SECONDARY",
    "Problem",
    "find_recoverable_cells",
    "protect_tables",
    "recoverable_in_problem",
    "suppress",
]
