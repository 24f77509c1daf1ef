"""Master data and open orders in and out, as one document (JSON, a zip of the CSVs, or xlsx)."""

from __future__ import annotations

import io as stdio
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, Request

from api import ledger, store
from api.deps import CallerDep, Planner, PromiserDep, SessionDep
from api.schemas import DatasetLoaded, ErrorOut
from solver import io
from solver.domain import Dataset, DatasetError, Problem

router = APIRouter(prefix="/v1/dataset", tags=["dataset"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.put("", response_model=DatasetLoaded, response_model_exclude_none=True, responses={422: {"model": ErrorOut}})
async def replace_dataset(
    request: Request, session: SessionDep, caller: Planner, promiser: PromiserDep
) -> DatasetLoaded:
    """Replace master data and orders; every problem is listed, nothing is half-written.

    Confirmed orders the published plan does not carry get room in the promise ledger.
    """
    body = await request.body()
    dataset = _parse(body, request.headers.get("content-type", "application/json"))
    ledger.serialize(session)
    counts = store.replace_dataset(session, dataset, caller.actor)
    session.flush()
    ledger.sync_promises(session, promiser)
    session.commit()
    version = session.get(store.MasterData, 1).version
    return DatasetLoaded(
        version=version, orders=len(dataset.orders), warnings=list(dataset.load_warnings) or None, **counts
    )


@router.get("", response_model=dict[str, Any])
def get_dataset(session: SessionDep, _: CallerDep) -> dict[str, Any]:
    return store.dataset_document(session)


def _parse(body: bytes, content_type: str) -> Dataset:
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("application/zip", "application/x-zip-compressed"):
        return _from_zip(body)
    if kind == XLSX:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "dataset.xlsx"
            path.write_bytes(body)
            return io.load_workbook(path)
    problems: list[Problem] = []
    document = io.parse_json_bytes(body or b"null", "$", problems)  # a key given twice is a problem
    if problems:
        raise DatasetError(problems)
    return io.load_json_document(document, "$")


def _from_zip(body: bytes) -> Dataset:
    try:
        archive = zipfile.ZipFile(stdio.BytesIO(body))
    except zipfile.BadZipFile:
        raise DatasetError([Problem("upload", None, None, "not a zip archive")]) from None
    with tempfile.TemporaryDirectory() as folder, archive:
        for member in archive.infolist():
            name = PurePosixPath(member.filename).name  # the CSVs may sit in a folder; never escape ours
            if name.endswith((".csv", ".json")) and not member.is_dir():
                (Path(folder) / name).write_bytes(archive.read(member))
        return io.load_csv_folder(folder)
