"""Regenerate the bundled sample dataset in ``data/sample/``.

Run from the repository root::

    python data/make_sample.py

The output is deterministic: the same generator version writes the same files.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from solver.generate import generate_dataset
from solver.io import TABLES, write_csv_folder

logger = logging.getLogger("make_sample")

SAMPLE_FOLDER = Path(__file__).resolve().parent / "sample"
SAMPLE_ARGS: dict[str, object] = {
    "orders": 150,
    "lines": 6,
    "days": 90,
    "seed": 7,
    "plan_start": dt.date(2026, 11, 30),
    "load": 0.8,
    "products": 40,
    "materials": 30,
}


def make_sample(folder: Path = SAMPLE_FOLDER) -> None:
    """Write the sample dataset, replacing the dataset files already in ``folder``."""
    dataset = generate_dataset(**SAMPLE_ARGS)  # type: ignore[arg-type]
    for stem in TABLES:
        (folder / f"{stem}.csv").unlink(missing_ok=True)  # an emptied optional table leaves no stale file
    write_csv_folder(dataset, folder)
    logger.info("wrote %d orders to %s", len(dataset.orders), folder)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    make_sample()
