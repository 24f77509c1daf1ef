"""Issue #13 through the API: out-of-bounds values are located 422s, never 500s; a 422 changes nothing."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from api.main import create_app
from tests.api.conftest import PLANNER, make_settings, sqlite_url
from tests.api.test_orders import NEW
from tests.test_bounds import DOCUMENT
from tests.test_loader_fuzz import mutated_documents


def put(client: TestClient, document: Any) -> Any:
    """Upload ``document``; removing orders is allowed here: these tests are about parsing it."""
    return client.put(
        "/v1/dataset?remove_orders=true",
        content=json.dumps(document),
        headers=PLANNER | {"content-type": "application/json"},
    )


def test_huge_horizon_is_a_located_422(client: TestClient, small_document: dict) -> None:
    document = copy.deepcopy(small_document)
    document["plant"]["horizon_days"] = 100_000_000
    response = client.put("/v1/dataset", json=document, headers=PLANNER)
    assert response.status_code == 422
    assert [(p["file"], p["column"]) for p in response.json()["problems"]] == [("$.plant", "horizon_days")]


def test_max_horizon_days_setting_lifts_the_bound(make_client, small_document: dict) -> None:
    client = make_client(max_horizon_days=1500)
    document = copy.deepcopy(small_document)
    document["plant"]["horizon_days"] = 1200
    assert client.put("/v1/dataset", json=document, headers=PLANNER).status_code == 200
    make_client(max_horizon_days=1000)  # later tests see the default again


def test_a_key_given_twice_in_the_document_is_a_422(client: TestClient) -> None:
    body = '{"plant": {"plan_start": "2026-11-30"}, "orders": [], "orders": []}'
    response = client.put("/v1/dataset", content=body, headers=PLANNER | {"content-type": "application/json"})
    assert response.status_code == 422
    assert [(p["file"], p["column"]) for p in response.json()["problems"]] == [("$", "orders")]


def test_dataset_with_a_bom_loads(client: TestClient, small_document: dict) -> None:
    body = b"\xef\xbb\xbf" + json.dumps(small_document).encode()
    response = client.put("/v1/dataset", content=body, headers=PLANNER | {"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert "warnings" not in response.json()


def test_gb18030_csv_in_a_zip_loads_with_a_warning(client: TestClient, tmp_path: Path) -> None:
    import io as stdio
    import zipfile

    from solver import io
    from tests.api.conftest import small_dataset

    io.write_csv_folder(small_dataset(), tmp_path / "d")
    buffer = stdio.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for file in sorted((tmp_path / "d").iterdir()):
            content = file.read_bytes()
            zipped.writestr(file.name, content.decode().encode("gb18030") if file.name == "products.csv" else content)
    response = client.put(
        "/v1/dataset", content=buffer.getvalue(), headers=PLANNER | {"content-type": "application/zip"}
    )
    assert response.status_code == 200, response.text
    assert any("products.csv" in w and "GB18030" in w for w in response.json()["warnings"])


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"order_id": "SO/1"}, "order_id"),  # could be created but never read
        ({"order_id": "a%2Fb"}, "order_id"),
        ({"quantity": True}, "quantity"),  # a bool is not a number
        ({"quantity": 2**31}, "quantity"),
        ({"due_date": "0001-01-01"}, "due_date"),
        ({"due_date": "9999-12-01"}, "due_date"),
        ({"earliest_start": "1999-12-31"}, "earliest_start"),
    ],
)
def test_order_out_of_bounds_is_a_located_422(client: TestClient, loaded: dict, fields: dict, where: str) -> None:
    response = client.post("/v1/orders", json=NEW | fields, headers=PLANNER)
    assert response.status_code == 422, response.text
    assert [(p["file"], p["column"]) for p in response.json()["problems"]] == [("body", f"$.{where}")]


def test_order_id_with_a_dot_and_dash_is_created_and_read(client: TestClient, loaded: dict) -> None:
    assert client.post("/v1/orders", json=NEW | {"order_id": "SO-1.A_2"}, headers=PLANNER).status_code == 201
    assert client.get("/v1/orders/SO-1.A_2", headers=PLANNER).status_code == 200


@pytest.mark.parametrize("seed", [2**31, -(2**31) - 1, True])
def test_plan_seed_outside_int32_is_a_422(client: TestClient, loaded: dict, seed: Any) -> None:
    response = client.post("/v1/plans", json={"seed": seed, "time_limit_s": 1}, headers=PLANNER)
    assert response.status_code == 422, response.text
    assert [(p["file"], p["column"]) for p in response.json()["problems"]] == [("body", "$.seed")]


def test_api_key_containing_a_colon(make_client) -> None:
    client = make_client(api_keys="planner:night:ab:cd")
    assert client.get("/v1/orders", headers={"X-API-Key": "ab:cd"}).status_code in (200, 404)
    assert client.get("/v1/orders", headers={"X-API-Key": "cd"}).status_code == 401


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(document=mutated_documents())
def test_fuzzed_dataset_put_is_200_or_located_422_and_a_422_changes_nothing(api: TestClient, document: Any) -> None:
    before = api.get("/v1/dataset", headers=PLANNER).json()
    response = put(api, document)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        problems = response.json()["problems"]
        assert problems and all(p["file"].startswith("$") and p["message"] for p in problems)
        assert api.get("/v1/dataset", headers=PLANNER).json() == before
    else:
        assert put(api, DOCUMENT).status_code == 200  # back to the start for the next example


@pytest.fixture(scope="module")
def api() -> Any:
    """One service on SQLite for the whole fuzz (a fresh one per example would take minutes)."""
    with tempfile.TemporaryDirectory() as folder, TestClient(create_app(make_settings(sqlite_url(Path(folder))))) as c:
        assert put(c, DOCUMENT).status_code == 200
        yield c
