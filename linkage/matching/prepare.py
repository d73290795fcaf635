"""Prepared linkage input: the columns the Splink model reads, one row per record.

Grain: one row per record_token of `linkage.records` (optionally only new or only existing
records). Bloom filters are cast to BIT once here (`<name>_bits`, `<name>_ones` = popcount)
instead of once per compared pair, and the given and family name filters also get a 64-bit
hash (`<name>_hash`) for rules that only ask whether two names are the same; tokens and
phonetic keys become 64-bit hashes (UBIGINT, cheaper to join and compare than 16-32
character strings); birth tokens are also laid out one per column (`birth_near_<slot>`);
MinHash band keys are flattened to `lsh_band_<i>`.
Display columns (contact date, services...) are left out: the model never needs them.
"""

from __future__ import annotations

import logging
from typing import Literal

import duckdb
import pyarrow as pa

from linkage.matching.lsh import lsh_params_label, minhash_bands
from linkage.matching.spec import (
    BIRTH_NEAR_SLOTS,
    NAME_HASHED,
    LinkageSettings,
    lsh_band_columns,
)
from schemas.vocabularies import _AGE_BAND_LOWER, AGE_BANDS, MAX_PLAUSIBLE_AGE

logger = logging.getLogger(__name__)

Subset = Literal["all", "new", "existing"]
_CHUNK = 200_000
# HMAC tokens and phonetic keys: only ever compared for equality (blocking joins, exact
# levels, list membership), so they are carried as 64-bit hashes (`_hashed`).
_TOKEN_COLUMNS = (
    "given_name_key",
    "family_name_key",
    "full_name_key",
    "name_set_key",
    "sex_token",
    "district_token",
    "ward_token",
    "citizenship_token",
    "passport_token",
    "phone_token",
)
_TOKEN_LIST_COLUMNS = ("citizenship_edit_tokens", "passport_edit_tokens")
# pahichan-enc-3 name edit tokens; NULL for a record of an older batch (never blocked or
# compared on them: the name comparison falls through to its Dice and key levels).
_NAME_EDIT = "name_edit_tokens"
# Birth, one set of columns for both encodings (the model compares like with like only):
# - birth_scheme: 2 (keyed windows, pahichan-enc-2), 1 (exact year tokens, enc-1), NULL;
# - birth_year_token: enc-1 exact year, enc-2 the cell (both window tokens together);
# - birth_date_token: enc-1 exact date, enc-2 day token + cell;
# - birth_near_tokens: enc-1 the +-1 list (two of them intersect when the years are at
#   most 2 apart), enc-2 the window tokens (shared when less than a window apart).
_WINDOWS = "coalesce(r.birth_window_tokens, [])"
_CELL = f"nullif(array_to_string({_WINDOWS}, '/'), '')"
_BIRTH_EXPRESSIONS = {
    "birth_scheme": f"CASE WHEN len({_WINDOWS}) > 0 THEN 2"
    " WHEN r.birth_year_token IS NOT NULL THEN 1 END",
    "birth_year_token": f"coalesce(r.birth_year_token, {_CELL})",
    "birth_date_token": f"coalesce(r.birth_date_token, r.birth_day_token || '/' || {_CELL})",
}
_BIRTH_HASHED = ("birth_year_token", "birth_date_token")
# Separator of two tokens hashed together (tokens are hex: it never occurs in one).
_SEP = "'/'"
_BIRTH_NEAR = (
    f"CASE WHEN len({_WINDOWS}) > 0 THEN {_WINDOWS} ELSE coalesce(r.birth_year_pm1_tokens, []) END"
)
# The birth years the record's clear age band allows at its clear contact date (the same
# data the warehouse shows; nothing the tokens add): birth_year_low .. birth_year_high, NULL
# without a band. An age from a birth date is the age on the contact day, hence one more
# year below for day precision. The comparison uses it to split the coarse window levels.
_AGE_UPPER = (*(lower - 1 for lower in _AGE_BAND_LOWER[1:]), MAX_PLAUSIBLE_AGE)


def _age_case(bounds: tuple[int, ...]) -> str:
    whens = " ".join(
        f"WHEN '{band}' THEN {bound}" for band, bound in zip(AGE_BANDS, bounds, strict=True)
    )  # band labels and ages are code constants, not data
    return f"CASE r.age_band {whens} END"


_BIRTH_RANGE = {
    "birth_year_low": f"year(r.contact_date) - ({_age_case(_AGE_UPPER)})"
    " - CASE WHEN r.birth_precision = 'day' THEN 1 ELSE 0 END",
    "birth_year_high": f"year(r.contact_date) - ({_age_case(_AGE_BAND_LOWER)})",
}
# Short clear codes (inline strings in DuckDB already): kept as they are.
_PLAIN_COLUMNS = ("sex", "local_level_code")
# Contract 1.2: only records whose consent covers linkage enter training and scoring.
# statistics_only records are never compared with any record (of another agency or their
# own), so they get no pair and each is clustered alone: a survivor of its own. NULL is an
# older batch's record (linkage_and_statistics); any other value is never linked.
LINKABLE = "coalesce(r.consent_scope, 'linkage_and_statistics') = 'linkage_and_statistics'"
_SUBSET_FILTERS: dict[str, str] = {
    "all": "TRUE",
    "new": "r.record_token NOT IN (SELECT record_token FROM linkage.memberships)",
    "existing": "r.record_token IN (SELECT record_token FROM linkage.memberships)",
}


def refresh_blocking_keys(con: duckdb.DuckDBPyConnection, settings: LinkageSettings) -> int:
    """Compute MinHash band keys for records that lack them (or have stale ones).

    Nothing to do when the model uses no LSH bands (the default).
    """
    if settings.lsh_bands == 0:
        return 0
    label = lsh_params_label(settings.lsh_bands, settings.lsh_rows, settings.lsh_seed)
    todo = con.execute(
        """SELECT r.record_token, r.full_name_bf FROM linkage.records AS r
        LEFT JOIN linkage.record_blocking_keys AS k USING (record_token)
        WHERE k.record_token IS NULL OR k.lsh_params <> ?""",
        [label],
    ).fetch_arrow_table()
    for start in range(0, todo.num_rows, _CHUNK):
        chunk = todo.slice(start, _CHUNK)
        bands = minhash_bands(
            chunk["full_name_bf"],
            bands=settings.lsh_bands,
            rows=settings.lsh_rows,
            seed=settings.lsh_seed,
        )
        keys = pa.table(
            {
                "record_token": chunk["record_token"],
                "lsh_params": pa.array([label] * chunk.num_rows, pa.string()),
                "lsh_bands": pa.array(bands, pa.list_(pa.int64())),
            }
        )
        con.register("__pahichan_lsh", keys)
        try:
            con.execute(
                "INSERT OR REPLACE INTO linkage.record_blocking_keys "
                "SELECT record_token, lsh_params, lsh_bands FROM __pahichan_lsh"
            )
        finally:
            con.unregister("__pahichan_lsh")
    if todo.num_rows:
        logger.info("Computed MinHash band keys for %d records", todo.num_rows)
    return todo.num_rows


def _hashed(expression: str) -> str:
    """64-bit hash of a token, NULL kept NULL (DuckDB hashes NULL to a constant).

    Tokens are 16-32 hex characters, too long for DuckDB's inline strings: every join probe
    and comparison then chases a pointer, and candidate-pair rows carry the string bodies.
    A UBIGINT made these joins and list look-ups ~30% cheaper on 100k synthetic records.
    Equality is all the model asks of a token; two different tokens collide with
    probability 2**-64, the same order as two values colliding in a 64-bit HMAC token
    itself. The hashes live only in the temp tables of one scoring or training run
    (DuckDB's hash may change between versions), never in the store.
    """
    return f"CASE WHEN {expression} IS NULL THEN NULL ELSE hash({expression}) END"


def prepare_input(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    settings: LinkageSettings,
    subset: Subset = "all",
    record_tokens: str | None = None,
    numbered_from: int | None = None,
) -> int:
    """(Re)create temp table `table_name` with the model's input columns; return its rows.

    `record_tokens` optionally names a table with a `record_token` column restricting rows.
    With `numbered_from` the rows also get `record_id`, numbered from it upwards: an integer
    id for Splink to pair records by (`linkage.matching.scoring`).
    """
    filters = f"{_SUBSET_FILTERS[subset]} AND {LINKABLE}"
    if record_tokens:
        filters += f" AND r.record_token IN (SELECT record_token FROM {record_tokens})"  # noqa: S608
    bit_columns = []
    for name in ("given_name", "family_name", "father_name", "full_name"):
        bit_columns.append(f"CAST(r.{name}_bf AS BIT) AS {name}_bits")
        bit_columns.append(f"bit_count(CAST(r.{name}_bf AS BIT)) AS {name}_ones")
    # Equality of whole names without the filters (spec._NOT_SAME_NAMES).
    bit_columns += [f"{_hashed(f'r.{name}_bf')} AS {name}_hash" for name in NAME_HASHED]
    bands = [
        f"k.lsh_bands[{i + 1}] AS {column}" for i, column in enumerate(lsh_band_columns(settings))
    ]
    numbering = (
        [f"{int(numbered_from)} + row_number() OVER () - 1 AS record_id"]
        if numbered_from is not None
        else []
    )
    select_list = ", ".join(
        [
            *numbering,
            "r.record_token",
            *bit_columns,
            *(f"{_hashed(f'r.{c}')} AS {c}" for c in _TOKEN_COLUMNS),
            *(f"list_transform(r.{c}, t -> {_hashed('t')}) AS {c}" for c in _TOKEN_LIST_COLUMNS),
            f"CASE WHEN len(r.{_NAME_EDIT}) > 0 THEN list_transform(r.{_NAME_EDIT},"
            f" t -> {_hashed('t')}) END AS {_NAME_EDIT}",
            f"{_BIRTH_EXPRESSIONS['birth_scheme']} AS birth_scheme",
            *(f"{_hashed(_BIRTH_EXPRESSIONS[c])} AS {c}" for c in _BIRTH_HASHED),
            # The list for models of earlier spec versions, whose SQL reads it; its
            # elements one per column (NULL past its end) for the spec to compare pairwise
            # (spec.shares_birth_token), read from the list by DuckDB's column alias.
            f"list_transform({_BIRTH_NEAR}, t -> {_hashed('t')}) AS birth_near_tokens",
            *(
                f"birth_near_tokens[{slot}] AS birth_near_{slot}"
                for slot in range(1, BIRTH_NEAR_SLOTS + 1)
            ),
            # The name edit rule's join key besides the token (spec.edit_token_rule): the
            # district and the birth cell together, NULL without either.
            f"{_hashed(f'r.district_token || {_SEP} || ' + _BIRTH_EXPRESSIONS['birth_year_token'])}"
            " AS edit_place",
            *(f"{expression} AS {name}" for name, expression in _BIRTH_RANGE.items()),
            *(f"r.{c}" for c in _PLAIN_COLUMNS),
            *bands,
        ]
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table_name} AS
        SELECT {select_list}
        FROM linkage.records AS r
        LEFT JOIN linkage.record_blocking_keys AS k USING (record_token)
        WHERE {filters}"""  # noqa: S608 - identifiers from code constants only
    )
    return int(con.execute(f"SELECT count(*) FROM {table_name}").fetchone()[0])  # noqa: S608
