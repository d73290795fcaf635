"""`pahichan benchmark pseudonymise`: records per second of the encoder on one core.

Clear records are generated in memory (``linkage.synthetic`` when it is available, else a
small built-in generator with a skewed name distribution), then encoded twice: a cold run
(empty caches, as an agency's first export) and a warm run (caches filled, as a monthly
re-run). Nothing is written to disk.
"""

from __future__ import annotations

import time

import click
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from linkage.encoding import encode, keyed
from linkage.encoding.keys import new_secret
from linkage.encoding.names import canonical_name

_GIVEN = [
    "Sita",
    "Laxmi",
    "Maya",
    "Gita",
    "Sarita",
    "Sunita",
    "Kamala",
    "Sabina",
    "Radha",
    "Parbati",
    "Mina",
    "Rita",
    "Puja",
    "Sushma",
    "Sangita",
    "Bimala",
    "Kalpana",
    "Nirmala",
    "Rina",
    "Manisha",
    "Asmita",
    "Anjali",
    "Srijana",
    "Pabitra",
    "Samjhana",
    "Ram",
    "Krishna",
    "Hari",
    "Bishnu",
    "Shyam",
    "Ramesh",
    "Dipak",
    "Suresh",
    "Bikash",
    "Santosh",
    "Raju",
    "Prakash",
    "Sanjay",
    "Binod",
    "Kiran",
    "Arjun",
    "Bhim",
    "Gopal",
    "Dinesh",
    "Sunil",
    "Nabin",
    "Rajesh",
    "Bijay",
    "Anil",
    "Sagar",
]
_FAMILY = [
    "Tamang",
    "Magar",
    "Gurung",
    "Rai",
    "Limbu",
    "Thapa",
    "Shrestha",
    "Bishwokarma",
    "Pariyar",
    "Nepali",
    "Sunar",
    "Damai",
    "Sarki",
    "Chaudhary",
    "Tharu",
    "Yadav",
    "Shah",
    "Karki",
    "Khadka",
    "Basnet",
    "Adhikari",
    "Poudel",
    "Bhattarai",
    "Pokharel",
    "Ghimire",
    "Lama",
    "Sherpa",
    "Maharjan",
    "Dangol",
    "Bhandari",
    "Oli",
    "Rana",
    "KC",
    "Bohara",
    "Budha",
    "Rokaya",
    "Sapkota",
    "Dahal",
    "Khatri",
    "Mahato",
]
_DISTRICTS = [
    "Sindhupalchok",
    "Makwanpur",
    "Nuwakot",
    "Kathmandu",
    "Dhading",
    "Kavrepalanchok",
    "Morang",
    "Sunsari",
    "Jhapa",
    "Banke",
    "Kailali",
    "Rupandehi",
    "Chitwan",
    "Dolakha",
    "Ramechhap",
]


def _zipf(rng: np.random.Generator, size: int, count: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** 0.9
    return rng.choice(size, size=count, p=weights / weights.sum())


def builtin_records(count: int, seed: int = 7) -> pd.DataFrame:
    """``count`` clear extract rows with a skewed name distribution (synthetic)."""
    rng = np.random.default_rng(seed)
    given = np.array(_GIVEN)[_zipf(rng, len(_GIVEN), count)]
    family = np.array(_FAMILY)[_zipf(rng, len(_FAMILY), count)]
    father = np.array(_GIVEN[25:])[_zipf(rng, len(_GIVEN) - 25, count)]
    years = rng.integers(1960, 2010, size=count)
    months = rng.integers(1, 13, size=count)
    days = rng.integers(1, 29, size=count)
    has_dob = rng.random(count) < 0.6
    dob = [
        f"{y}-{m:02d}-{d:02d}" if h else ""
        for y, m, d, h in zip(years, months, days, has_dob, strict=True)
    ]
    return pd.DataFrame({
        "record_id": [f"R{i:07d}" for i in range(count)],
        "given_name": given,
        "family_name": family,
        "father_name": father,
        "sex": rng.choice(["F", "M"], size=count, p=[0.8, 0.2]),
        "date_of_birth": dob,
        "age": [str(2024 - y) for y in years],
        "citizenship_no": [f"27-01-{rng.integers(70, 80)}-{rng.integers(1, 99999):05d}"
                           if rng.random() < 0.3 else "" for _ in range(count)],
        "phone": [f"98{rng.integers(0, 10**8):08d}" if rng.random() < 0.5 else ""
                  for _ in range(count)],
        "district": np.array(_DISTRICTS)[_zipf(rng, len(_DISTRICTS), count)],
        "contact_date": [f"2024-{m:02d}-15" for m in rng.integers(1, 13, size=count)],
        "exploitation_type": rng.choice(["forced_labour", "sexual_exploitation"], size=count),
        "destination_country": rng.choice(["India", "Malaysia", "Qatar", "NP"], size=count),
        "services": rng.choice(["counselling;shelter", "health_check", ""], size=count),
    })  # fmt: skip


def _records(count: int, seed: int) -> tuple[pd.DataFrame, str]:
    """Clear records: the shared synthetic generator when present, else the built-in one."""
    try:
        from linkage import synthetic  # another part of linkage/; optional here
    except ImportError:
        return builtin_records(count, seed), "built-in generator"
    data = synthetic.generate(people=max(count // 2, 1), seed=seed)
    frames = [frame.assign(record_id=f"{source}-" + frame["record_id"].astype(str))
              for source, frame in data.extracts.items()]  # fmt: skip
    frame = pd.concat(frames, ignore_index=True)
    while len(frame) < count:  # few records per person: top up with a second seed
        extra = synthetic.generate(people=count, seed=seed + len(frame))
        frame = pd.concat(
            [
                frame,
                *[
                    f.assign(record_id=f"{s}{len(frame)}-" + f["record_id"])
                    for s, f in extra.extracts.items()
                ],
            ],
            ignore_index=True,
        )
    return frame.head(count).reset_index(drop=True), "linkage.synthetic"


@click.command(epilog="Example: pahichan benchmark pseudonymise --records 100000")
@click.option("--records", default=50_000, show_default=True, help="Clear records to encode.")
@click.option("--seed", default=7, show_default=True, help="Seed of the synthetic records.")
def benchmark_pseudonymise(records: int, seed: int) -> None:
    """Encode synthetic clear records in memory on one core and report records/s."""
    console = Console()
    with console.status("Generating synthetic records ..."):
        frame, origin = _records(records, seed)
    secret = new_secret()
    # CPU seconds of this process are the one-core cost; wall seconds also show how busy
    # the machine was (other processes compete for the two cores).
    rows: list[tuple[str, float, float, int]] = []
    cold_stages: dict[str, float] = {}
    # Load the reference indices (geography, vocabularies) once, as any run does, so "cold"
    # measures encoding with empty per-value caches rather than one-off start-up.
    encode.encode_frame(
        frame.head(5), secret=new_secret(), agency_id="warmup", source_type="shelter"
    )
    for label in ("cold (first export)", "warm (caches filled)"):
        with console.status(f"Encoding, {label} ..."):
            if label.startswith("cold"):
                keyed._ENCODERS.clear()
                canonical_name.cache_clear()
            wall, cpu = time.perf_counter(), time.process_time()
            batch = encode.encode_frame(
                frame, secret=secret, agency_id="bench", source_type="shelter"
            )
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        rows.append((label, cpu, wall, batch.table.num_rows))
        if label.startswith("cold"):
            cold_stages = batch.stage_seconds
    table = Table(title=f"pseudonymise, {len(frame):,} records from {origin}, one core")
    for column in ("run", "records", "CPU s", "wall s", "records/s (CPU)", "rejected"):
        table.add_column(column, justify="right" if column != "run" else "left")
    for label, cpu, wall, encoded_rows in rows:
        table.add_row(
            label,
            f"{len(frame):,}",
            f"{cpu:.2f}",
            f"{wall:.2f}",
            f"{len(frame) / cpu:,.0f}",
            f"{len(frame) - encoded_rows:,}",
        )
    console.print(table)
    stages = Table(title="where the cold run's time goes (wall seconds)")
    stages.add_column("stage")
    stages.add_column("seconds", justify="right")
    for stage, seconds in cold_stages.items():
        stages.add_row(stage, f"{seconds:.2f}")
    console.print(stages)
    click.echo(
        f"pseudonymise: {len(frame) / rows[0][1]:,.0f} records/s cold, "
        f"{len(frame) / rows[1][1]:,.0f} records/s warm, one core CPU time "
        f"({len(frame):,} records from {origin})"
    )
