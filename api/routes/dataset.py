"""Master data and open orders in and out, as one document (JSON, a zip of the CSVs, or xlsx)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api import ledger, store, uploads
from api.db import session_plant
from api.deps import CallerDep, CreatingSessionDep, Planner, PromiserDep, SessionDep, SettingsDep
from api.plants import ensure_plant
from api.promising import Promiser
from api.schemas import DatasetLoaded, ErrorOut
from solver import io
from solver.domain import Dataset, DatasetError, Problem

router = APIRouter(prefix="/dataset", tags=["dataset"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.put(
    "",
    response_model=DatasetLoaded,
    response_model_exclude_none=True,
    responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def replace_dataset(
    request: Request,
    session: CreatingSessionDep,
    settings: SettingsDep,
    caller: Planner,
    promiser: PromiserDep,
    remove_orders: Annotated[
        bool, Query(description="allow removing orders past received that the upload leaves out")
    ] = False,
    name: Annotated[
        str | None, Query(max_length=200, description="the plant's name, shown by GET /v1/plants and the page")
    ] = None,
) -> DatasetLoaded:
    """Replace master data and orders; every problem is listed, nothing is half-written.

    Confirmed orders the published plan does not carry get room in the promise ledger. An upload
    that leaves out orders past ``received`` is 409 ``would_remove_orders`` (listing them with
    their status) unless ``remove_orders=true``.
    """
    body = await request.body()
    limits = uploads.ArchiveLimits(settings.max_archive_members, settings.max_uncompressed_bytes)
    content_type = request.headers.get("content-type", "application/json")
    # parsing a big upload takes seconds: off the event loop, so that other requests are answered meanwhile
    dataset = await run_in_threadpool(_parse, body, content_type, limits)
    loaded = await run_in_threadpool(_replace, session, dataset, caller.actor, promiser, remove_orders, name)
    request.app.state.plants.added(session_plant(session))
    return loaded


def _replace(
    session: Session, dataset: Dataset, actor: str, promiser: Promiser, remove_orders: bool, name: str | None
) -> DatasetLoaded:
    ensure_plant(session, session_plant(session), name)  # PUT /v1/plants/{plant_id}/dataset creates the plant
    ledger.serialize(session)
    counts = store.replace_dataset(session, dataset, actor, remove_orders=remove_orders)
    session.flush()
    ledger.sync_promises(session, promiser)
    session.commit()
    version = store.master_row(session).version
    return DatasetLoaded(
        version=version, orders=len(dataset.orders), warnings=list(dataset.load_warnings) or None, **counts
    )


@router.get("", response_model=dict[str, Any])
def get_dataset(session: SessionDep, _: CallerDep) -> dict[str, Any]:
    return store.dataset_document(session)


def _parse(body: bytes, content_type: str, limits: uploads.ArchiveLimits) -> Dataset:
    """The dataset in an upload; it takes CPU seconds, so the route runs it in a worker thread."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("application/zip", "application/x-zip-compressed"):
        return _from_zip(body, limits)
    if kind == XLSX:
        return _from_xlsx(body, limits)
    problems: list[Problem] = []
    document = io.parse_json_bytes(body or b"null", "$", problems)  # a key given twice is a problem
    if problems:
        raise DatasetError(problems)
    return io.load_json_document(document, "$")


def _from_zip(body: bytes, limits: uploads.ArchiveLimits) -> Dataset:
    """The CSV folder in a zip: only ``plant.json`` and the known CSVs are unpacked, within ``limits``."""
    known = {"plant.json", *(f"{stem}.csv" for stem in io.TABLES)}
    with uploads.open_archive(body, limits) as archive:
        members = uploads.members_by_name(archive, known)
        contents = uploads.read_members(archive, members.values(), limits)
    with tempfile.TemporaryDirectory() as folder:
        for name, content in zip(members, contents, strict=True):
            (Path(folder) / name).write_bytes(content)  # a known name: never a path out of the folder
        return io.load_csv_folder(folder)


def _from_xlsx(body: bytes, limits: uploads.ArchiveLimits) -> Dataset:
    """A workbook is a zip too: every member is unpacked within ``limits``, and every sheet's
    extent checked, before openpyxl sees it."""
    with uploads.open_archive(body, limits, "an xlsx workbook") as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        for member, content in zip(members, uploads.read_members(archive, members, limits), strict=True):
            if member.filename.startswith("xl/worksheets/"):
                uploads.check_sheet_extent(member.filename, content)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dataset.xlsx"
        path.write_bytes(body)
        return io.load_workbook(path)
