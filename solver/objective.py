"""The objective of PROBLEM.md ("What is best"), one type for every part of the solver.

The four levels, in their order of importance: the fewest unscheduled orders
counted by priority; the least total weighted days late; the fewest orders
whose line or start day changes against a previous plan; the least
finished-goods holding beyond the collection week. An :class:`Objective`
compares lexicographically (it is a tuple of the four levels), adds level by
level, and converts to and from the schedule document's ``"objective"`` and
``"bound"`` objects (FORMATS.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

PRIMARY_LEVELS = 2  # levels 1-2: what the first solver stage, its bound and progress reports cover


class Objective(NamedTuple):
    """An objective value, level by level; ``<`` is "better than", ``+`` sums level by level."""

    unscheduled_priority: int = 0
    weighted_days_late: int = 0
    changed_orders: int = 0
    holding_days: int = 0

    def __add__(self, other: tuple[int, ...]) -> Objective:  # type: ignore[override]
        return Objective(*(mine + theirs for mine, theirs in zip(self, other, strict=True)))

    @classmethod
    def total(cls, parts: Iterable[Objective]) -> Objective:
        """The level-by-level sum of ``parts`` (zero when there are none)."""
        total = cls()
        for part in parts:
            total += part
        return total

    @property
    def primary(self) -> Objective:
        """Levels 1-2 alone (unscheduled priority, weighted days late); levels 3-4 zero."""
        return Objective(self.unscheduled_priority, self.weighted_days_late)

    def primary_value(self, lateness_weight: int) -> int:
        """Levels 1-2 as one number, one priority point unscheduled weighing ``lateness_weight``
        (more than any possible lateness), as the CP-SAT models minimise them."""
        return lateness_weight * self.unscheduled_priority + self.weighted_days_late

    def as_dict(self, levels: int | None = None) -> dict[str, int]:
        """The schedule document's form, ``{"unscheduled_priority": ..., ...}``, of every level
        or of the first ``levels``."""
        names = self._fields if levels is None else self._fields[:levels]
        return {name: int(value) for name, value in zip(names, self, strict=False)}

    @classmethod
    def from_dict(cls, terms: Mapping[str, int]) -> Objective:
        """An objective from the schedule document's form; a level it does not give is 0."""
        return cls(*(int(terms.get(name, 0)) for name in cls._fields))
