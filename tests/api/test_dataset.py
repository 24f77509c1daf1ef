"""PUT and GET /v1/dataset: JSON, a zip of the CSV folder, xlsx; every problem listed; all or nothing."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from solver import io
from tests.api.conftest import PLANNER, SALES, small_dataset

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """A dataset document with its orders in id order (the service lists them so)."""
    document = copy.deepcopy(document)
    document["orders"] = sorted(document["orders"], key=lambda o: o["order_id"])
    return document


def zipped_csv_folder(tmp_path: Path, inside: str = "dataset") -> bytes:
    folder = tmp_path / inside
    io.write_csv_folder(small_dataset(), folder)
    archive = tmp_path / "dataset.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in sorted(folder.iterdir()):
            zipped.write(file, f"{inside}/{file.name}")
    return archive.read_bytes()


def test_get_before_any_load_is_404(client: TestClient) -> None:
    response = client.get("/v1/dataset", headers=PLANNER)
    assert response.status_code == 404
    assert "PUT /v1/dataset" in response.json()["detail"]


def test_put_json_counts_and_round_trip(client: TestClient, small_document: dict) -> None:
    response = client.put("/v1/dataset", json=small_document, headers=PLANNER)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "version": 1,
        "orders": 30,
        "orders_added": 30,
        "orders_changed": 0,
        "orders_removed": 0,
    }
    response = client.get("/v1/dataset", headers=SALES)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert normalised(response.json()) == normalised(small_document)
    assert io.load_json_document(response.json()) == small_dataset()


def test_put_again_counts_changes_and_removals(client: TestClient, small_document: dict) -> None:
    assert client.put("/v1/dataset", json=small_document, headers=PLANNER).status_code == 200
    changed = copy.deepcopy(small_document)
    changed["orders"][0]["quantity"] += 1
    removed = changed["orders"].pop()
    changed["orders"].append(removed | {"order_id": "SO-NEW-1"})
    # removing a confirmed order is said explicitly (tests/api/test_hardening_version.py)
    response = client.put("/v1/dataset?remove_orders=true", json=changed, headers=PLANNER)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "version": 2,
        "orders": 30,
        "orders_added": 1,
        "orders_changed": 1,
        "orders_removed": 1,
    }
    assert normalised(client.get("/v1/dataset", headers=PLANNER).json()) == normalised(changed)
    first = changed["orders"][0]["order_id"]
    history = client.get(f"/v1/orders/{first}", headers=PLANNER).json()["history"]
    assert [event["kind"] for event in history] == ["import", "import"]
    assert history[-1]["detail"]["changes"]["quantity"] == [
        small_document["orders"][0]["quantity"],
        changed["orders"][0]["quantity"],
    ]
    assert client.get(f"/v1/orders/{removed['order_id']}", headers=PLANNER).status_code == 404


def test_put_zip_of_the_csv_folder(client: TestClient, tmp_path: Path, small_document: dict) -> None:
    body = zipped_csv_folder(tmp_path)
    response = client.put("/v1/dataset", content=body, headers=PLANNER | {"Content-Type": "application/zip"})
    assert response.status_code == 200, response.text
    assert response.json()["orders"] == 30
    assert normalised(client.get("/v1/dataset", headers=PLANNER).json()) == normalised(small_document)


def test_put_xlsx_workbook(client: TestClient, tmp_path: Path, small_document: dict) -> None:
    workbook = tmp_path / "dataset.xlsx"
    io.write_workbook(small_dataset(), workbook)
    response = client.put("/v1/dataset", content=workbook.read_bytes(), headers=PLANNER | {"Content-Type": XLSX})
    assert response.status_code == 200, response.text
    assert response.json()["orders_added"] == 30
    assert normalised(client.get("/v1/dataset", headers=PLANNER).json()) == normalised(small_document)


def test_bad_json_document_lists_every_problem_and_keeps_the_previous_dataset(
    client: TestClient, small_document: dict
) -> None:
    assert client.put("/v1/dataset", json=small_document, headers=PLANNER).status_code == 200
    bad = copy.deepcopy(small_document)
    bad["orders"][3]["quantity"] = "lots"
    bad["orders"][7]["due_date"] = "someday"
    bad["orders"][9]["product_id"] = "NO-SUCH-PRODUCT"
    bad["orders"][12]["order_id"] = bad["orders"][11]["order_id"]
    bad["orders"].append({"order_id": "EXTRA-1", "quantity": 1, "due_date": "2026-12-20"})
    response = client.put("/v1/dataset", json=bad, headers=PLANNER)
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert response.json()["detail"].startswith(f"{len(problems)} problem")
    located = {(p["file"], p["row"], p["column"]) for p in problems}
    assert ("$.orders", "[3]", "quantity") in located
    assert ("$.orders", "[7]", "due_date") in located
    assert ("$.orders", "[9]", "product_id") in located
    assert ("$.orders", "[12]", "order_id") in located
    assert ("$.orders", "[30]", "product_id") in located
    assert all(p["message"] for p in problems)
    # nothing of the bad document was written
    assert normalised(client.get("/v1/dataset", headers=PLANNER).json()) == normalised(small_document)
    response = client.put("/v1/dataset", json=small_document, headers=PLANNER)
    assert response.json()["version"] == 2
    assert response.json()["orders_changed"] == 0


def test_bad_csv_zip_is_located_by_file_and_spreadsheet_row(client: TestClient, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    io.write_csv_folder(small_dataset(), folder)
    lines = (folder / "orders.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    quantity = header.index("quantity")
    for index in (2, 5):  # spreadsheet rows 3 and 6 (the header is row 1)
        cells = lines[index].split(",")
        cells[quantity] = "-4"
        lines[index] = ",".join(cells)
    (folder / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "lines.csv").unlink()
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in folder.iterdir():
            zipped.write(file, file.name)
    headers = PLANNER | {"Content-Type": "application/zip"}
    response = client.put("/v1/dataset", content=archive.read_bytes(), headers=headers)
    assert response.status_code == 422, response.text
    located = {(p["file"], p["row"], p["column"]) for p in response.json()["problems"]}
    assert ("orders.csv", 3, "quantity") in located
    assert ("orders.csv", 6, "quantity") in located
    assert any(p["file"] == "lines.csv" for p in response.json()["problems"])
    assert client.get("/v1/dataset", headers=PLANNER).status_code == 404


def test_unreadable_bodies_are_422(client: TestClient) -> None:
    cases = [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"PK but not a zip", "application/zip"),
        (b"not a workbook", XLSX),
    ]
    for body, content_type in cases:
        response = client.put("/v1/dataset", content=body, headers=PLANNER | {"Content-Type": content_type})
        assert response.status_code == 422, (content_type, response.text)
        assert response.json()["problems"], content_type
    assert client.get("/v1/dataset", headers=PLANNER).status_code == 404


def test_body_above_the_limit_is_413(make_client, small_document: dict) -> None:
    client = make_client(max_body_bytes=2_000)
    response = client.put("/v1/dataset", json=small_document, headers=PLANNER)
    assert response.status_code == 413
    assert "2000" in response.json()["detail"]
    assert client.get("/v1/dataset", headers=PLANNER).status_code == 404
    small = {"order_id": "X", "product_id": "HV-001", "quantity": 1, "due_date": "2026-12-20"}
    assert client.post("/v1/orders", json=small, headers=PLANNER).status_code == 404  # under the limit


def test_streamed_body_above_the_limit_is_413(make_client, small_document: dict) -> None:
    """A chunked upload declares no length; it is counted as it arrives."""
    client = make_client(max_body_bytes=2_000)
    payload = json.dumps(small_document).encode()

    def chunks():
        for start in range(0, len(payload), 500):
            yield payload[start : start + 500]

    response = client.put("/v1/dataset", content=chunks(), headers=PLANNER | {"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert client.get("/v1/dataset", headers=PLANNER).status_code == 404


def test_streamed_order_above_the_limit_is_413(make_client, small_document: dict) -> None:
    """The limit holds for every route, also where the framework reads the body."""
    client = make_client(max_body_bytes=2_000)
    order = {"order_id": "X", "product_id": "HV-001", "quantity": 1, "due_date": "2026-12-20", "reason": "x" * 5_000}
    payload = json.dumps(order).encode()

    def chunks():
        for start in range(0, len(payload), 500):
            yield payload[start : start + 500]

    response = client.post("/v1/orders", content=chunks(), headers=PLANNER | {"Content-Type": "application/json"})
    assert response.status_code == 413, response.text


def test_overlong_ids_are_stored_or_refused_never_a_server_error(client: TestClient, small_document: dict) -> None:
    """Order and customer ids of 150 characters: accepted and kept whole, or a located 422; the same on every database."""
    assert client.put("/v1/dataset", json=small_document, headers=PLANNER).status_code == 200
    long_order, long_customer = "O" * 150, "C" * 150
    document = copy.deepcopy(small_document)
    document["orders"][0]["order_id"] = long_order
    document["customers"][0]["customer_id"] = long_customer
    first_customer = small_document["customers"][0]["customer_id"]
    for order in document["orders"]:
        if order.get("customer_id") == first_customer:
            order["customer_id"] = long_customer
    response = client.put("/v1/dataset", json=document, headers=PLANNER)
    assert response.status_code in (200, 422), response.text
    stored = client.get("/v1/dataset", headers=PLANNER).json()
    if response.status_code == 200:
        assert long_order in {o["order_id"] for o in stored["orders"]}
    else:
        assert {p["file"] for p in response.json()["problems"]} <= {"$.orders", "$.customers"}
        assert normalised(stored) == normalised(small_document)
