"""The OpenAPI contract as clients rely on it: keys as a security scheme, every error documented
with its real body, UTC datetimes with their offset, strict dates in queries, complete Allow on
405, and the docs page without any CDN."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import PLANNER, SALES


def test_the_openapi_document_names_the_key_and_every_error(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert {"type": "apiKey", "in": "header", "name": "X-API-Key"}.items() <= next(iter(schemes.values())).items()
    create = spec["paths"]["/v1/orders"]["post"]
    assert create["security"]
    assert {"201", "401", "403", "409", "413", "422", "503"} <= set(create["responses"])
    error = spec["components"]["schemas"]["ErrorOut"]["properties"]
    assert {"detail", "problems", "code", "rule", "detail_zh"} <= set(error)


def test_datetimes_carry_their_utc_offset(client: TestClient, loaded: dict) -> None:
    order = client.get("/v1/orders/SO-2611-0006", headers=SALES).json()
    assert order["created_at"].endswith("+00:00")
    assert all(event["at"].endswith("+00:00") for event in order["history"])


def test_a_date_in_a_query_is_written_as_a_date(client: TestClient, loaded: dict) -> None:
    response = client.get("/v1/orders", params={"due_to": "0"}, headers=SALES)
    assert response.status_code == 422
    assert [p["column"] for p in response.json()["problems"]] == ["$.due_to"]
    assert client.get("/v1/orders", params={"due_to": "2026-12-31"}, headers=SALES).status_code == 200


def test_405_names_every_method_of_the_path(client: TestClient, loaded: dict) -> None:
    response = client.put("/v1/orders/SO-2611-0006/pin", json={}, headers=PLANNER)
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, POST"
    assert client.patch("/v1/quotes", json={}, headers=SALES).headers["allow"] == "GET, POST"


def test_the_docs_page_loads_nothing_from_a_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text and "https://" not in page.text
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200


def test_a_nul_in_a_query_or_path_parameter_is_a_422_not_a_database_error(client: TestClient, loaded: dict) -> None:
    """Found by Schemathesis on PostgreSQL (which refuses NUL in text): GET /v1/orders?product_id=...%00... was a 500."""
    for path in (
        "/v1/orders?product_id=2%2B5w%00x&status=shipped",
        "/v1/orders/SO%00X",
        "/v1/plants/default/orders?customer_id=%00",
    ):
        response = client.get(path, headers=PLANNER)
        assert response.status_code == 422, (path, response.text)
        assert "NUL" in response.text
    assert client.get("/v1/orders?product_id=HV-001", headers=PLANNER).status_code == 200
