"""Regenerate the bundled sample dataset in ``data/sample/``.

Run from the repository root::

    python data/make_sample.py

The output is deterministic: the same generator version writes the same files.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from solver.domain import Changeover, Dataset
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
    "changeovers": "family",
    "inspection_orders_per_day": 4,
    "dispatch_orders_per_day": 5,
}


# the component line L06 (元件装配一线) is the only line for some products: with the generator's
# all-lines changeovers between breakers and transformers it cannot fit all its orders, so, as on
# a real compact assembly line, its own changeovers between them are short
L06_CHANGEOVERS = (Changeover("真空断路器", "互感器", 30, "L06"), Changeover("互感器", "真空断路器", 30, "L06"))


def sample_dataset() -> Dataset:
    """The generator's plant with the component line's own changeover rows."""
    dataset = generate_dataset(**SAMPLE_ARGS)  # type: ignore[arg-type]
    others = [c for c in dataset.changeovers if c.line_id != "L06"]
    return dataset.replace(changeovers=[*others, *L06_CHANGEOVERS])


def make_sample(folder: Path = SAMPLE_FOLDER) -> None:
    """Write the sample dataset, replacing the dataset files already in ``folder``."""
    dataset = sample_dataset()
    for stem in TABLES:
        (folder / f"{stem}.csv").unlink(missing_ok=True)  # an emptied optional table leaves no stale file
    write_csv_folder(dataset, folder)
    logger.info("wrote %d orders to %s", len(dataset.orders), folder)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    make_sample()
