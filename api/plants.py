"""The group's plants: which exist, creating one, and what ``GET /v1/plants`` shows of each."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db import DEFAULT_PLANT, Database, LedgerLock, MasterData, OrderRow, Plant, Publication

PLANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
LIST_SECONDS = 5.0  # a plant another API process created shows in group answers within this


def default_first(plant_id: str) -> tuple[bool, str]:
    """The order plants are listed in everywhere: the default plant, then the others by id."""
    return plant_id != DEFAULT_PLANT, plant_id


class PlantDirectory:
    """The plant ids, cached; a miss reads the table again, so a plant another API process
    created is found on its first request here."""

    def __init__(self, database: Database):
        self.database = database
        self._known: set[str] = set()
        self._lock = threading.Lock()
        self._listed_until = 0.0

    def exists(self, plant_id: str) -> bool:
        with self._lock:
            if plant_id in self._known:
                return True
        with self.database.sessions() as session:
            known = set(session.scalars(select(Plant.plant_id)))
        with self._lock:
            self._known = known
        return plant_id in known

    def added(self, plant_id: str) -> None:
        with self._lock:
            self._known.add(plant_id)

    def ids(self) -> list[str]:
        """Every plant, the default one first; read again at most every few seconds."""
        with self._lock:
            fresh = time.monotonic() < self._listed_until
            known = set(self._known)
        if not fresh:
            with self.database.sessions() as session:
                known = set(session.scalars(select(Plant.plant_id)))
            with self._lock:
                self._known, self._listed_until = known, time.monotonic() + LIST_SECONDS
        return sorted(known, key=default_first)


def ensure_plant(session: Session, plant_id: str, name: str | None = None) -> bool:
    """Create ``plant_id`` (its row and its ledger lock) unless it exists; True when created."""
    plant = session.get(Plant, plant_id)
    if plant is not None:
        if name is not None:
            plant.name = name
        return False
    session.add(Plant(plant_id=plant_id, name=name or ""))
    session.add(LedgerLock(plant_id=plant_id, version=0))
    session.flush()
    return True


def plant_ids(session: Session) -> list[str]:
    """Every plant, the default one first."""
    ids = list(session.scalars(select(Plant.plant_id).order_by(Plant.plant_id)))
    return sorted(ids, key=default_first)


def plant_overview(session: Session, visible: set[str] | None) -> list[dict[str, Any]]:
    """Each plant (those in ``visible``, else all): name, data version, lines, products, open orders,
    published plan; a handful of grouped queries whatever the number of plants."""
    plants = [
        p for p in session.scalars(select(Plant).order_by(Plant.plant_id)) if visible is None or p.plant_id in visible
    ]
    masters = {m.plant_id: m for m in session.scalars(select(MasterData))}
    orders = dict(session.execute(select(OrderRow.plant_id, func.count()).group_by(OrderRow.plant_id)).all())
    newest = select(Publication.plant_id, func.max(Publication.id)).group_by(Publication.plant_id).subquery()
    published = dict(
        session.execute(
            select(Publication.plant_id, Publication.plan_id).join(newest, Publication.id == newest.c[1])
        ).all()
    )
    overview = []
    for plant in sorted(plants, key=lambda p: default_first(p.plant_id)):
        master = masters.get(plant.plant_id)
        document = master.document if master else {}
        overview.append(
            {
                "plant_id": plant.plant_id,
                "name": plant.name,
                "default": plant.plant_id == DEFAULT_PLANT,
                "dataset_version": master.version if master else None,
                "lines": len(document.get("lines", [])),
                "products": sorted({r["product_id"] for r in document.get("routings", [])}),
                "orders": orders.get(plant.plant_id, 0),
                "published_plan_id": published.get(plant.plant_id),
            }
        )
    return overview
