"""Encode clear extract rows into the pseudonymised batch table (docs/interfaces.md §2).

Grain: one output row per accepted input row; every rejected row yields one or more
:class:`Reject` lines (row number, column, reason, record_id - never another clear value).

The row loop is plain Python on purpose: each row needs a handful of cached look-ups
(canonical names, filters, tokens and reference codes are memoised per distinct value), and
that is what reaches tens of thousands of rows per second on one core.
"""

from __future__ import annotations

import gc
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from linkage.encoding import attributes
from linkage.encoding.bloom import BloomEncoder
from linkage.encoding.cells import (
    age_of,
    cell_strings,
    date_parser,
    mapped,
    name_key_pair,
    name_key_set,
    parsed_date,
)
from linkage.encoding.identifiers import (
    age_on,
    deletion_variants,
    normalise_document_number,
    normalise_phone,
)
from linkage.encoding.keyed import encoder_for
from linkage.encoding.names import canonical_name, phonetic_key
from linkage.encoding.schema import (
    BATCH_SCHEMA,
    FOLLOWUP_COLUMNS,
    INPUT_COLUMNS,
    NAME_COLUMNS,
    RECORD_KIND,
)
from schemas.contract import record_kind_problems
from schemas.reintegration import canonical_answer
from schemas.text import normalise_key
from schemas.vocabularies import SOURCE_TYPES, resolve_record_kind

logger = logging.getLogger(__name__)

CALENDARS = ("ad", "bs")


@dataclass(frozen=True)
class Reject:
    """One problem with one input row. ``row`` is the 1-based data row of the export."""

    row: int
    column: str
    reason: str
    record_id: str


@dataclass
class EncodedBatch:
    """Result of encoding a frame: the batch table, the rejects and the agency's crosswalk.

    `withheld` lists (row, record_id) of the rows whose consent_scope is services_only: they
    are neither encoded nor rejected, and never leave the agency (contract 1.2).
    """

    table: pa.Table
    rejects: list[Reject] = field(default_factory=list)
    crosswalk: pd.DataFrame = field(default_factory=pd.DataFrame)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    withheld: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        """Number of distinct input rows rejected."""
        return len({reject.row for reject in self.rejects})


# C0/C1 control characters (Unicode category Cc) and lone surrogates (category Cs), which
# is how bytes that are not UTF-8 arrive after decoding with "surrogateescape".
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a frame is encoded.

    Encoding allocates millions of small lists and tuples (one per row and column) that
    hold no reference cycles, so they are freed by reference counting alone; yet the
    allocations keep triggering collections that walk every live container, which cost
    about a sixth of the encoding time. The previous state is restored on exit.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def encode_frame(
    records: pd.DataFrame,
    *,
    secret: bytes,
    agency_id: str,
    source_type: str,
    calendar: str = "ad",
    source_rows: Sequence[int] | None = None,
) -> EncodedBatch:
    """Encode clear extract rows (canonical column names, §1) into a batch (§2).

    ``calendar`` says how ``date_of_birth`` and ``contact_date`` are written (``bs``:
    Bikram Sambat, converted to AD). Row ``i`` of ``records`` is data row ``i + 1`` unless
    ``source_rows`` gives the export's row numbers (when the reader skipped broken rows).

    Work is column by column, each function applied once per distinct value; only the
    checks that combine columns (dates, ages, duplicates) run row by row.
    """
    if source_type not in SOURCE_TYPES:
        raise ValueError(f"source_type must be one of {SOURCE_TYPES}")
    if calendar not in CALENDARS:
        raise ValueError(f"calendar must be one of {CALENDARS}")
    with _cyclic_gc_paused():
        return _encode_frame(records, secret, agency_id, calendar, source_rows)


def _encode_frame(
    records: pd.DataFrame,
    secret: bytes,
    agency_id: str,
    calendar: str,
    source_rows: Sequence[int] | None,
) -> EncodedBatch:
    clock = time.perf_counter()
    encoder = encoder_for(secret)
    parse = date_parser(calendar)
    count = len(records)
    rows = list(source_rows) if source_rows is not None else list(range(1, count + 1))
    cells = {name: cell_strings(records, name) for name in INPUT_COLUMNS}
    problems: dict[int, list[tuple[str, str]]] = {}

    def flag(index: int, column: str, reason: str) -> None:
        problems.setdefault(index, []).append((column, reason))

    stages: dict[str, float] = {}

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[stage] = now - clock
        clock = now

    lap("read cells")
    # 1. Characters: control characters and undecodable bytes void the cell.
    for name, values in cells.items():
        if _clean_text(values):
            continue
        for index, value in enumerate(values):
            if value and _CONTROL.search(value):
                flag(
                    index,
                    name,
                    "undecodable bytes (export is not UTF-8?)"
                    if _SURROGATE.search(value)
                    else "control characters",
                )
                values[index] = ""

    lap("character checks")
    # 2. Column-wise canonical forms and reference codes (memoised per distinct value).
    names = {name: mapped(canonical_name, cells[name]) for name in NAME_COLUMNS}
    contact = mapped(lambda text: parsed_date(parse, text), cells["contact_date"])
    birth = mapped(lambda text: parsed_date(parse, text), cells["date_of_birth"])
    ages = mapped(age_of, cells["age"])
    resolved = {
        "sex": mapped(attributes.sex, cells["sex"]),
        "district": mapped(attributes.district, cells["district"]),
        "province": mapped(attributes.province, cells["province"]),
        "caste_ethnicity": mapped(attributes.caste_ethnicity, cells["caste_ethnicity"]),
        "exploitation_type": mapped(attributes.exploitation_type, cells["exploitation_type"]),
        "destination_country": mapped(attributes.country, cells["destination_country"]),
        "referred_from": mapped(attributes.agency_type, cells["referred_from"]),
        "referred_to": mapped(attributes.agency_type, cells["referred_to"]),
        "services": mapped(attributes.services, cells["services"]),
        "consent_scope": mapped(attributes.consent_scope, cells["consent_scope"]),
    }
    district_codes = [code for code, _ in resolved["district"]]
    local_levels = [
        attributes.local_level(value, district) if value else (None, None)
        for value, district in zip(cells["local_level"], district_codes, strict=True)
    ]
    resolved["local_level"] = local_levels
    resolved["ward"] = [
        attributes.ward(value, local_level) if value else (None, None)
        for value, (local_level, _) in zip(cells["ward"], local_levels, strict=True)
    ]
    for column, results in resolved.items():
        # Rows with a problem found in C: most columns have none.
        for index in compress(range(count), map(itemgetter(1), results)):
            flag(index, column, results[index][1])

    kinds, answers = _record_kinds_and_answers(cells, flag)
    lap("canonical forms and codes")
    # 3. Row checks that combine columns.
    record_ids = cells["record_id"]
    first_row_of: dict[str, int] = {}
    birth_years: list[int | None] = [None] * count
    precisions = ["unknown"] * count
    contact_ages: list[int | None] = [None] * count
    label = calendar.upper()
    given_names, family_names, father_names = (names[column] for column in NAME_COLUMNS)
    for index in range(count):
        record_id = record_ids[index]
        if not record_id:
            flag(index, "record_id", "missing record_id")
        elif record_id in first_row_of:
            flag(
                index, "record_id", f"duplicate record_id (first at row {first_row_of[record_id]})"
            )
        else:
            first_row_of[record_id] = rows[index]
        has_name = given_names[index] or family_names[index] or father_names[index]
        if not has_name and not any(  # a voided cell is already the reason
            column in NAME_COLUMNS for column, _ in problems.get(index, ())
        ):
            flag(index, "given_name", "no name (given, family and father name empty)")
        contact_date, contact_precision = contact[index]
        if contact_date is None:
            flag(
                index,
                "contact_date",
                f"unparseable {label} date" if contact_precision else "missing contact_date",
            )
        elif contact_precision != "day":
            flag(index, "contact_date", "contact_date must be a full date")
            contact_date = None
        birth_date, birth_precision = birth[index]
        if birth_date is None and birth_precision:
            flag(index, "date_of_birth", f"unparseable {label} date")
        age, age_problem = ages[index]
        if age_problem:
            flag(index, "age", age_problem)
        if contact_date is None:
            continue
        if birth_date is not None:
            age = (
                age_on(birth_date, contact_date)
                if birth_precision == "day"
                else contact_date.year - birth_date.year
            )
            if birth_date > contact_date or age > attributes.MAX_PLAUSIBLE_AGE:
                flag(index, "date_of_birth", "birth date after contact or age over 120")
            birth_years[index] = birth_date.year
            precisions[index] = birth_precision
        elif age is not None:
            birth_years[index] = contact_date.year - age
            precisions[index] = "age"
        contact_ages[index] = age

    lap("row checks")
    # A services_only row never leaves the agency: withheld whatever else is wrong with it
    # (there is nothing to fix and re-send), so it is neither encoded nor rejected.
    withheld = {
        index
        for index, (scope, _) in enumerate(resolved["consent_scope"])
        if scope == "services_only"
    }
    # 4. Encode accepted rows, column by column.
    keep = [index for index in range(count) if index not in problems and index not in withheld]
    kept = _getter(keep)
    rejects = [
        Reject(rows[index], column, reason, record_ids[index])
        for index in sorted(problems.keys() - withheld)
        for column, reason in problems[index]
    ]
    tok = encoder.tokens
    blooms = encoder.blooms

    def pick(values: list) -> list:
        return list(kept(values))  # itemgetter: one C call instead of a Python loop

    def codes(column: str) -> list:
        return [code for code, _ in kept(resolved[column])]

    given, family, father = (pick(names[n]) for n in NAME_COLUMNS)
    kept_ids = pick(record_ids)
    record_tokens = encoder.record_tokens(agency_id, kept_ids)
    years = pick(birth_years)

    sexes = codes("sex")
    districts = codes("district")
    provinces = [
        province or (attributes.province_of_district(district) if district else None)
        for province, district in zip(codes("province"), districts, strict=True)
    ]
    births = pick(birth)
    kept_precisions = pick(precisions)
    out: dict[str, list | pa.Array] = {
        "record_token": record_tokens,
        "record_kind": pick(kinds),
        "source_row": pick(rows),
        "given_name_bf": _filters(blooms["given_name"], given),
        "family_name_bf": _filters(blooms["family_name"], family),
        "father_name_bf": _filters(blooms["father_name"], father),
        # Full name = given + family without spaces (one filter of the joined letters).
        "full_name_bf": _filters(
            blooms["full_name"],
            [g.replace(" ", "") + f.replace(" ", "") for g, f in zip(given, family, strict=True)],
        ),
        "given_name_key": mapped(lambda v: tok["name_key/given"](phonetic_key(v)), given),
        "family_name_key": mapped(lambda v: tok["name_key/family"](phonetic_key(v)), family),
        "full_name_key": mapped(
            lambda pair: tok["name_key/full"](name_key_pair(*pair)),
            list(zip(given, family, strict=True)),
        ),
        "name_set_key": mapped(
            lambda pair: tok["name_key/set"](name_key_set(*pair)),
            list(zip(given, family, strict=True)),
        ),
        # pahichan-enc-3 (issue 18): full names one letter apart in one field share a token.
        "name_edit_tokens": pa.array(list(map(encoder.name_edit_tokens, given, family)), _TOKENS),
        # pahichan-enc-2: no exact year or date token and no year-ordered neighbour lists
        # (chained, they gave every record's exact birth year away); the columns stay in
        # the schema, empty, for batches of the older tool.
        "birth_year_token": [None] * len(years),
        "birth_year_pm1_tokens": _taken(lambda _: [], [None] * len(years), _TOKENS),
        "birth_year_pm2_tokens": _taken(lambda _: [], [None] * len(years), _TOKENS),
        "birth_date_token": [None] * len(years),
        "birth_window_tokens": _taken(encoder.birth_window_tokens, years, _TOKENS),
        # Day and month only: a year-free class (1/366 of all records, of every age).
        "birth_day_token": mapped(
            lambda date: tok["birth_day"](f"{date.month:02d}-{date.day:02d}") if date else None,
            [
                date if precision == "day" else None
                for (date, _), precision in zip(births, kept_precisions, strict=True)
            ],
        ),
        "sex_token": mapped(tok["sex"], sexes),
        "district_token": mapped(tok["district"], districts),
        "ward_token": mapped(tok["ward"], codes("ward")),
        "citizenship_token": mapped(
            lambda v: tok["citizenship"](normalise_document_number(v)),
            pick(cells["citizenship_no"]),
        ),
        "passport_token": mapped(
            lambda v: tok["passport"](normalise_document_number(v)), pick(cells["passport_no"])
        ),
        **{
            f"{field}_edit_tokens": pa.array(
                [
                    encoder.edit_tokens(f"{field}_edit", deletion_variants(number))
                    for number in map(normalise_document_number, pick(cells[f"{field}_no"]))
                ],
                _TOKENS,
            )
            for field in ("citizenship", "passport")
        },
        "phone_token": mapped(lambda v: tok["phone"](normalise_phone(v)), pick(cells["phone"])),
        "sex": sexes,
        "age_band": [attributes.age_band(age) for age in pick(contact_ages)],
        "birth_precision": kept_precisions,
        "province_code": provinces,
        "district_code": districts,
        "local_level_code": codes("local_level"),
        "caste_ethnicity": codes("caste_ethnicity"),
        "contact_date": [date for date, _ in pick(contact)],
        "exploitation_type": codes("exploitation_type"),
        "destination_country": codes("destination_country"),
        "services": _taken(list, codes("services"), _TOKENS),
        "referred_from": codes("referred_from"),
        "referred_to": codes("referred_to"),
        **{column: pick(answers[column]) for column in FOLLOWUP_COLUMNS},
        "consent_scope": codes("consent_scope"),
    }
    lap("filters and tokens")
    table = pa.Table.from_pydict(out, schema=BATCH_SCHEMA)
    crosswalk = pd.DataFrame({"record_id": kept_ids, "record_token": record_tokens})
    logger.info(
        "encoded %d rows, rejected %d, withheld %d (services_only)",
        table.num_rows,
        len(problems.keys() - withheld),
        len(withheld),
    )
    lap("arrow table")
    return EncodedBatch(
        table=table,
        rejects=rejects,
        crosswalk=crosswalk,
        stage_seconds=stages,
        withheld=[(rows[index], record_ids[index]) for index in sorted(withheld)],
    )


_TOKEN = pa.string()
_TOKENS = pa.list_(pa.string())


def _taken(value_of: Callable[[Any], object], keys: list, type_: pa.DataType) -> pa.Array:
    """``pa.array([value_of(key) for key in keys], type_)``, converting each distinct key once.

    Arrow gathers the rows with ``take``; for list columns (birth-year tokens, services)
    this avoids building and converting one small Python list per row.
    """
    index_of = {key: index for index, key in enumerate(dict.fromkeys(keys))}
    values = pa.array([value_of(key) for key in index_of], type=type_)
    indices = np.fromiter(map(index_of.__getitem__, keys), dtype=np.int64, count=len(keys))
    return values.take(indices)


def _getter(indices: list[int]) -> Callable[[Sequence], tuple]:
    """``values -> tuple(values[i] for i in indices)`` as one C call (``itemgetter``)."""
    if len(indices) > 1:
        return itemgetter(*indices)
    return lambda values: tuple(values[index] for index in indices)


def _clean_text(values: list[str]) -> bool:
    """True when no cell has control characters or undecodable bytes (one scan per column).

    Scans the distinct texts only; ``isprintable`` (false for every control character and
    surrogate) clears most columns without the slower regex.
    """
    text = " ".join(set(values))
    return text.isprintable() or not _CONTROL.search(text)


def _filters(encoder: BloomEncoder, values: list[str]) -> list[bytes | None]:
    """Filter of each value; the distinct new values are encoded in one batch."""
    return list(map(encoder.encode_many(values).__getitem__, values))


def _answer_of(code: str, text: str) -> tuple[bool, str | None]:
    """(answered, canonical value as text) of one cell; (True, None) when off its scale."""
    if not normalise_key(text):
        return False, None
    try:
        value = canonical_answer(code, text)
    except ValueError:
        return True, None  # record_kind_problems names the answer and its scale in the reject
    return True, None if value is None else str(value)


def _record_kinds_and_answers(
    cells: dict[str, list[str]], flag: Callable[[int, str, str], None]
) -> tuple[list[str], dict[str, list[str | None]]]:
    """Per row: `episode`/`followup`, and each indicator's canonical answer (text or None).

    Kinds and answers are resolved once per distinct cell text (exports repeat a handful of
    answers), which finds the rows in trouble; only those go through
    `schemas.contract.record_kind_problems`, whose messages (naming the column and the fix)
    become the rejects. Rows with no record_kind and no answer (every row of a version-1
    export) are episodes without a look-up. Work is column by column over the non-empty
    cells only (``_filled``), since most rows leave most indicators empty.
    """
    count = len(cells["record_kind"])
    kinds = [RECORD_KIND] * count
    answers: dict[str, list[str | None]] = {column: [None] * count for column in FOLLOWUP_COLUMNS}
    kind_cells = cells["record_kind"]
    answered_rows = {column: _filled(cells[column]) for column in FOLLOWUP_COLUMNS}
    filled = set(_filled(kind_cells)).union(*answered_rows.values())
    kind_of = {text: resolve_record_kind(text) for text in {kind_cells[i] for i in filled}}
    troubled = {index for index in filled if kind_of[kind_cells[index]] is None}
    for column, indices in answered_rows.items():
        texts, values = cells[column], answers[column]
        answer_of = {text: _answer_of(column, text) for text in {texts[i] for i in indices}}
        for index in indices:
            answered, value = answer_of[texts[index]]
            values[index] = value
            if answered and (value is None or kind_of[kind_cells[index]] != "followup"):
                troubled.add(index)
    for index in sorted(troubled):
        row = {column: cells[column][index] for column in ("record_kind", *FOLLOWUP_COLUMNS)}
        for problem in record_kind_problems(row):
            column = problem.split(":", 1)[0]
            flag(index, column if column in FOLLOWUP_COLUMNS else "record_kind", problem)
    for index in filled:
        kind = kind_of[kind_cells[index]]
        if kind is not None:
            kinds[index] = kind
    return kinds, answers


def _filled(values: list[str]) -> list[int]:
    """Indices of the non-empty cells, found in C (``compress`` tests each text's truth)."""
    return list(compress(range(len(values)), values))
