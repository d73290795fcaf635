"""k-anonymity of row-level files: the quasi-identifiers, the anonymiser, the checker.

`quasi_identifiers` states what an attacker can know (one place); `anonymise` coarsens and
suppresses the analyst tables; `check` is the independent checker the publish step and the
CTDC export run before they write anything.
"""

from pipelines.anonymity.anonymiser import (
    AnonymisedTables,
    AnonymityPolicy,
    AnonymityReport,
    anonymise,
)
from pipelines.anonymity.check import (
    AnonymityCheck,
    KAnonymityError,
    assert_analyst_k_anonymous,
    assert_rows_k_anonymous,
    check_analyst_k_anonymity,
    check_rows_k_anonymity,
    survivor_class_sizes,
)

__all__ = [
    "AnonymisedTables",
    "AnonymityCheck",
    "AnonymityPolicy",
    "AnonymityReport",
    "KAnonymityError",
    "anonymise",
    "assert_analyst_k_anonymous",
    "assert_rows_k_anonymous",
    "check_analyst_k_anonymity",
    "check_rows_k_anonymity",
    "survivor_class_sizes",
]
