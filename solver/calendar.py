"""Working days of the plant and minutes of capacity per line and date.

Day ``0`` is the plan start. Arrays run over the horizon plus a tail long
enough to find inspection and dispatch days after the last production day.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from solver.domain import WEEKDAYS, Dataset

log = logging.getLogger(__name__)

TAIL_DAYS = 60  # room after the horizon for inspection and dispatch


def hours_to_minutes(hours: float) -> int:
    """Capacity or setup in whole minutes: ``round(hours * 60)``, halves up."""
    return math.floor(hours * 60 + 0.5)


def run_minutes(quantity: int, units_per_hour: float) -> int:
    """Minutes to make ``quantity`` units: ``ceil(quantity * 60 / units_per_hour)``."""
    return math.ceil(quantity * 60 / units_per_hour - 1e-9)


@dataclass(frozen=True)
class HolidaySource:
    """Official days off and adjusted working days for a country, by year."""

    days_off: frozenset[dt.date]
    extra_workdays: frozenset[dt.date]
    uncovered_years: tuple[int, ...]


def holiday_source(country: str | None, years: range) -> HolidaySource:
    """Days off and adjusted working days of ``country`` over ``years``."""
    if country is None:
        return HolidaySource(frozenset(), frozenset(), ())
    if country.upper() == "CN":
        return _chinese_holidays(years)
    import holidays  # only needed for plants outside China

    try:
        days = holidays.country_holidays(country.upper(), years=list(years))
    except NotImplementedError:
        return HolidaySource(frozenset(), frozenset(), tuple(years))
    return HolidaySource(frozenset(days), frozenset(), ())


def _chinese_holidays(years: range) -> HolidaySource:
    from chinese_calendar import constants

    covered = {d.year for d in constants.holidays}
    days_off = frozenset(d for d in constants.holidays if d.year in years)
    workdays = frozenset(d for d in constants.workdays if d.year in years)
    return HolidaySource(days_off, workdays, tuple(y for y in years if y not in covered))


class PlantCalendar:
    """Plant working days and line capacities over the plan's days.

    Parameters
    ----------
    dataset
        The plant's data; ``calendar`` and ``line_calendar`` rows override.
    """

    def __init__(self, dataset: Dataset):
        plant = dataset.plant
        self.plan_start = plant.plan_start
        self.horizon = plant.horizon_days
        self.length = self.horizon + TAIL_DAYS
        self.dates = [self.plan_start + dt.timedelta(days=i) for i in range(self.length)]
        years = range(self.dates[0].year, self.dates[-1].year + 1)
        source = holiday_source(plant.holiday_country, years)
        self.warnings = self._coverage_warnings(plant.holiday_country, source, dataset)
        self.plant_working = self._plant_working_days(dataset, source)
        self.line_ids = [line.line_id for line in dataset.lines]
        self.capacity = self._line_capacities(dataset)

    def _coverage_warnings(self, country: str | None, source: HolidaySource, dataset: Dataset) -> list[str]:
        horizon_years = sorted({self.dates[i].year for i in range(self.horizon)})
        missing = [y for y in source.uncovered_years if y in horizon_years]
        if not missing:
            return []
        listed = ", ".join(str(y) for y in missing)
        message = (
            f"official {country} holiday data does not cover {listed}: working days in {listed} follow "
            f"the plant's workdays and calendar.csv only ({len(dataset.calendar)} exception rows)"
        )
        log.warning(message)
        return [message]

    def _plant_working_days(self, dataset: Dataset, source: HolidaySource) -> np.ndarray:
        listed = {WEEKDAYS.index(d) for d in dataset.plant.workdays}
        working = np.array([d.weekday() in listed for d in self.dates], dtype=bool)
        for i, date in enumerate(self.dates):
            if date in source.days_off:
                working[i] = False
            elif date in source.extra_workdays:
                working[i] = True
        for exception in dataset.calendar:
            index = self.index_of(exception.date)
            if index is not None:
                working[index] = exception.working
        return working

    def _line_capacities(self, dataset: Dataset) -> np.ndarray:
        capacity = np.zeros((len(dataset.lines), self.length), dtype=np.int64)
        for row, line in enumerate(dataset.lines):
            capacity[row, self.plant_working] = hours_to_minutes(line.hours_per_day)
        rows = {line_id: r for r, line_id in enumerate(self.line_ids)}
        for entry in dataset.line_calendar:
            index = self.index_of(entry.date)
            if index is not None:
                capacity[rows[entry.line_id], index] = hours_to_minutes(entry.hours)
        capacity[:, self.horizon :] = 0  # nothing is produced after the horizon
        return capacity

    # -- look-ups --------------------------------------------------------------

    def index_of(self, date: dt.date) -> int | None:
        """Day index of ``date``, or ``None`` outside the calendar."""
        index = (date - self.plan_start).days
        return index if 0 <= index < self.length else None

    def date_of(self, index: int) -> dt.date:
        return self.plan_start + dt.timedelta(days=int(index))

    def line_row(self, line_id: str) -> int:
        return self.line_ids.index(line_id)

    def line_capacity(self, line_id: str) -> np.ndarray:
        """Minutes available per day index on a line (0 after the horizon)."""
        return self.capacity[self.line_row(line_id)]

    @cached_property
    def next_working_day(self) -> np.ndarray:
        """For each day index, the first plant working day strictly after it (-1 if none)."""
        following = np.full(self.length, -1, dtype=np.int64)
        upcoming = -1
        for i in range(self.length - 1, -1, -1):
            following[i] = upcoming
            if self.plant_working[i]:
                upcoming = i
        return following

    def inspection_day(self, production_end: int) -> int:
        """Inspection: the first plant working day strictly after the last production day."""
        return int(self.next_working_day[production_end])

    def dispatch_day(self, production_end: int) -> int:
        """Dispatch: the first plant working day strictly after inspection (-1 if none)."""
        inspection = self.inspection_day(production_end)
        return -1 if inspection < 0 else int(self.next_working_day[inspection])

    @cached_property
    def dispatch_by_end_day(self) -> np.ndarray:
        """Dispatch day index for each possible last production day of the horizon."""
        return np.array([self.dispatch_day(d) for d in range(self.horizon)], dtype=np.int64)

    def frozen_window_end(self, frozen_days: int) -> int:
        """Last day index of the first ``frozen_days`` plant working days (-1 when none)."""
        working = np.flatnonzero(self.plant_working[: self.horizon])
        if frozen_days <= 0 or len(working) == 0:
            return -1
        return int(working[min(frozen_days, len(working)) - 1])
