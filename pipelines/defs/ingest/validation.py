"""Row validation of one batch with Great Expectations 1.x; returns the rows that fail and why.

Rows are validated as a pandas DataFrame with an ephemeral GX context (data source, dataframe
asset, suite, validation definition), `result_format` COMPLETE with an index column so every
failing row is identified. GX's DuckDB SQL data source is not used: it does not work with
DuckDB (upstream great_expectations issues #10738 and #11579), and the batch is in memory
before it reaches the warehouse anyway.

Some rules need a value the suite can test directly, so the frame carries derived columns:
`services_unknown` (service codes outside the vocabulary, joined, else null),
`name_filter_count` (how many name Bloom filters are present), `<filter>_bytes` (length
of each Bloom filter) and `birth_token_count` (birth window plus +-1 year tokens: linkage
compares them as at most three columns, `linkage.matching.spec.BIRTH_NEAR_SLOTS`).
Filters and list columns themselves are not handed to GX.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linkage.encoding.schema import BATCH_COLUMNS
from pipelines.defs.ingest.contract import FILTER_COLUMNS
from pipelines.defs.ingest.suites import load_suite_spec, vocabulary

logger = logging.getLogger(__name__)

ROW_INDEX = "row_index"
# Binary and list columns: Great Expectations checks scalar text, numbers and dates only
# (the filters' byte length and the lists are checked in pandas below).
_NOT_FOR_GX = tuple(
    c.name
    for c in BATCH_COLUMNS
    if pa.types.is_fixed_size_binary(c.type) or pa.types.is_list(c.type)
)

# The birth token lists `birth_token_count` adds up (enc-2 windows, enc-1 +-1 years).
_BIRTH_LISTS = ("birth_window_tokens", "birth_year_pm1_tokens")


@dataclass(frozen=True)
class RowFailure:
    """One expectation failed by one row (`row_index` = position in the batch table)."""

    row_index: int
    column: str | None
    rule: str
    expectation: str
    reason: str


@dataclass
class ValidationOutcome:
    """Every failure found, and the rule names that were evaluated."""

    failures: list[RowFailure] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)

    @property
    def failed_rows(self) -> set[int]:
        return {failure.row_index for failure in self.failures}

    def rows_failing(self, rule: str) -> int:
        return len({f.row_index for f in self.failures if f.rule == rule})


def validation_frame(table: pa.Table, columns: set[str] | None = None) -> pd.DataFrame:
    """The batch as GX sees it: scalar columns, derived columns, a row index; only
    `columns` (and the row index) when given."""
    frame = table.drop_columns(list(_NOT_FOR_GX)).to_pandas()
    frame.insert(0, ROW_INDEX, range(table.num_rows))
    # Dates as pandas timestamps so `between` compares like with like.
    frame["contact_date"] = pd.to_datetime(frame["contact_date"])
    present = [pc.is_valid(table.column(name)) for name in FILTER_COLUMNS if name != "full_name_bf"]
    count = present[0].cast(pa.int32())
    for flags in present[1:]:
        count = pc.add(count, flags.cast(pa.int32()))
    # The full-name filter is derived from the others by the encoder; it counts as a name too.
    frame["name_filter_count"] = pc.add(
        count, pc.is_valid(table.column("full_name_bf")).cast(pa.int32())
    ).to_numpy(zero_copy_only=False)
    for name in FILTER_COLUMNS:
        frame[f"{name}_bytes"] = pc.binary_length(table.column(name)).to_pandas()
    frame["birth_token_count"] = pc.add(
        *(pc.fill_null(pc.list_value_length(table.column(name)), 0) for name in _BIRTH_LISTS)
    ).to_numpy(zero_copy_only=False)
    known_services = set(vocabulary("service_codes"))
    frame["services_unknown"] = [
        ", ".join(sorted(set(codes) - known_services)) or None if codes is not None else None
        for codes in table.column("services").to_pylist()
    ]
    if columns is not None:
        frame = frame[[c for c in frame.columns if c == ROW_INDEX or c in columns]]
    # One copy merges the columns added above into one block per dtype. GX slices and
    # copies the frame for every expectation, and pandas merged the scattered blocks again
    # each time: 24-25 s -> 16-17 s to validate a 421k-row batch.
    return frame.copy()


def _columns_read(spec: list[dict[str, Any]]) -> set[str] | None:
    """The columns the suite's expectations name; None when one names none (a table-level
    expectation, which sees every column)."""
    named: set[str] = set()
    for item in spec:
        kwargs = item["kwargs"]
        found = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
        found += kwargs.get("column_list", [])
        if not found:
            return None
        named.update(found)
    return named


def _context() -> Any:
    """An ephemeral GX context without progress bars or usage statistics."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _as_pandas_bounds(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        key: pd.Timestamp(value) if isinstance(value, dt.date) else value
        for key, value in kwargs.items()
    }


def validate_rows(
    table: pa.Table, source_type: str, *, today: dt.date | None = None
) -> ValidationOutcome:
    """Validate every row of a conforming batch table against its source type's suite."""
    spec = load_suite_spec(source_type, today)
    outcome = ValidationOutcome(rules=[item["meta"]["rule"] for item in spec])
    if table.num_rows == 0:
        return outcome
    # GX copies the whole frame for each expectation (its null filter): columns no
    # expectation reads cost time and nothing else (a 366k-row batch: 14.8 s -> 11.2 s).
    # Under pandas' Copy-on-Write (the default from pandas 3) those copies are deferred and
    # never made, as GX only reads them: a 364k-row batch 12.3 s -> 9.2 s, the same failures.
    with pd.option_context("mode.copy_on_write", True):
        frame = validation_frame(table, _columns_read(spec))
        result = _run_suite(frame, source_type, spec)
    for item in result.results:
        configuration = item.expectation_config
        meta = configuration.meta or {}
        if item.exception_info and item.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"expectation {meta.get('rule')} could not run: "
                f"{item.exception_info.get('exception_message')}"
            )
        if item.success:
            continue
        column = configuration.kwargs.get("column")
        for entry in item.result.get("unexpected_index_list") or []:
            value = entry.get(column) if isinstance(entry, dict) else None
            outcome.failures.append(
                RowFailure(
                    # GX hands back numpy integers; plain ints go to DuckDB and JSON.
                    row_index=int(entry[ROW_INDEX]),
                    column=_reported_column(column),
                    rule=meta["rule"],
                    expectation=configuration.type,
                    reason=_reason(meta, value),
                )
            )
    logger.info(
        "Validated %d %s rows: %d fail at least one of %d expectations",
        table.num_rows,
        source_type,
        len(outcome.failed_rows),
        len(spec),
    )
    return outcome


def _run_suite(frame: pd.DataFrame, source_type: str, spec: list[dict[str, Any]]) -> Any:
    """Run the suite `spec` over `frame` in an ephemeral GX context; GX's validation result,
    every failing row identified by ROW_INDEX."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    context = _context()
    name = f"{source_type}-{uuid.uuid4().hex[:8]}"
    batch_definition = (
        context.data_sources.add_pandas(name)
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe(name)
    )
    suite = gx.ExpectationSuite(name=name)
    for item in spec:
        configuration = ExpectationConfiguration(
            type=item["type"], kwargs=_as_pandas_bounds(item["kwargs"]), meta=item["meta"]
        )
        suite.add_expectation(configuration.to_domain_obj())
    suite = context.suites.add(suite)
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
    )
    return validation.run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_INDEX]},
    )


def required_columns(source_type: str) -> list[str]:
    """The batch columns the suite requires a value in (`expect_column_values_to_not_be_null`
    without `mostly`), sorted."""
    return sorted(
        {
            item["kwargs"]["column"]
            for item in load_suite_spec(source_type)
            if item["type"] == "expect_column_values_to_not_be_null"
            and "mostly" not in item["kwargs"]
        }
    )


def rows_sure_to_fail(table: pa.Table, source_type: str) -> int:
    """A lower bound of the rows `validate_rows` would fail, counted in one vectorised pass:
    rows with a null where the suite requires a value. `table` needs only those columns
    (`required_columns`), so it can run on a few decoded columns before the rest is decoded
    and before the suite runs: a batch of a million empty rows is refused in seconds.
    """
    present = [name for name in required_columns(source_type) if name in table.column_names]
    if not present or table.num_rows == 0:
        return 0
    missing = pc.is_null(table.column(present[0]))
    for name in present[1:]:
        missing = pc.or_(missing, pc.is_null(table.column(name)))
    return int(pc.sum(missing.cast(pa.int64())).as_py() or 0)


def _reported_column(column: str | None) -> str | None:
    """The batch column a derived column stands for (what the agency would correct)."""
    if column is None:
        return None
    if column == "services_unknown":
        return "services"
    if column == "name_filter_count":
        return "given_name_bf, family_name_bf, father_name_bf, full_name_bf"
    if column == "birth_token_count":
        return ", ".join(_BIRTH_LISTS)
    return column.removesuffix("_bytes")


def _reason(meta: dict[str, Any], value: Any) -> str:
    template = str(meta.get("reason", meta.get("rule", "failed an expectation")))
    if not meta.get("show_value"):
        return template.replace(" {value}", "").replace("{value}", "")
    if isinstance(value, pd.Timestamp):
        shown = value.date().isoformat()
    elif value is None or (isinstance(value, float) and pd.isna(value)):
        shown = "(empty)"
    else:
        shown = repr(value) if isinstance(value, str) and "," not in value else str(value)
    return template.replace("{value}", shown)
