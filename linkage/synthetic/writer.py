"""Write synthetic extracts as agency CSVs, and the truth file apart from them.

Files: `shelter.csv`, `ocmc.csv`, `migration.csv` (UTF-8, header row, one row per episode,
contract columns in contract order, blank = missing) and `truth.csv` (`source, record_id,
person_id, cases`; `cases` lists the record's hard cases, `linkage.synthetic.cases`). The
truth file exists for evaluation only: it says which records are the same person, so it
must never be sent with the extracts, pseudonymised or not.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pandas as pd

from linkage.synthetic.generator import SyntheticData

logger = logging.getLogger(__name__)

TRUTH_FILE = "truth.csv"


def write_extract(frame: pd.DataFrame, path: Path) -> None:
    """Write one extract (or a part of one) as the agency's CSV, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_csv(frame, path)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # The csv module is ~2x faster than DataFrame.to_csv on text columns and quotes only when
    # needed; fixed line ending and encoding make one seed give byte-identical files anywhere.
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(frame.columns)
        writer.writerows(zip(*(frame[c].tolist() for c in frame.columns), strict=True))


def write(
    data: SyntheticData, out_dir: Path | str, truth_dir: Path | str | None = None
) -> dict[str, Path]:
    """Write one CSV per source type into `out_dir` and `truth.csv` into `truth_dir`.

    `truth_dir` defaults to `out_dir`. Returns the written paths keyed by source type and
    `"truth"`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    truth_folder = Path(truth_dir) if truth_dir is not None else out
    truth_folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for source_type, frame in data.extracts.items():
        path = out / f"{source_type}.csv"
        _write_csv(frame, path)
        written[source_type] = path
    written["truth"] = truth_folder / TRUTH_FILE
    _write_csv(data.truth, written["truth"])
    logger.info("wrote %d extract rows to %s", data.record_count, out)
    return written
