"""The page's server side without a browser: ``GET /v1/whoami``, ``/`` and ``/static/...``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.routes.ui import STATIC
from tests.api.conftest import BATCH, PLANNER, SALES, make_settings, sqlite_url


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(sqlite_url(tmp_path)))) as client:
        yield client


def test_whoami_names_the_role_of_the_key(client: TestClient) -> None:
    assert client.get("/v1/whoami", headers=PLANNER).json() == {"role": "planner", "name": "key1", "plants": None}
    assert client.get("/v1/whoami", headers=SALES).json() == {"role": "sales", "name": "key1", "plants": None}
    assert client.get("/v1/whoami", headers=BATCH).json() == {"role": "batch", "name": "key1", "plants": None}
    refused = client.get("/v1/whoami", headers={"X-API-Key": "wrong"})
    assert refused.status_code == 401
    assert client.get("/v1/whoami").status_code == 401


def test_the_page_is_served_with_a_policy_that_allows_only_its_own_scripts(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert page.headers["cache-control"] == "no-cache"
    assert client.head("/").status_code == 200
    # every script and stylesheet the page names is the service's own and is there
    for path in re.findall(r'(?:src|href)="(static/[^"]+)"', page.text):
        response = client.get("/" + path)
        assert response.status_code == 200, path
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")


def test_static_files_stay_inside_their_folder(client: TestClient) -> None:
    assert client.get("/static/nothing.js").status_code == 404
    assert client.get("/static/../main.py").status_code == 404
    assert client.get("/static/%2e%2e/main.py").status_code == 404
    assert client.get("/static/").status_code == 404


def test_every_module_the_page_imports_is_shipped() -> None:
    """Plain ES modules, no build step: each import must name a file under api/static."""
    modules = [STATIC / "app.js", *sorted((STATIC / "js").glob("*.js"))]
    for module in modules:
        for name in re.findall(r'^import .* from "(\.[^"]+)";$', module.read_text(encoding="utf-8"), re.MULTILINE):
            assert (module.parent / name).resolve().is_file(), f"{module.name} imports {name}"
    vendor = STATIC / "vendor" / "vis-timeline"
    for name in (
        "vis-timeline-graph2d.min.js",
        "LICENSE.MIT.txt",
        "LICENSE.Apache-2.0.txt",
        "THIRD_PARTY_LICENSES.txt",
    ):
        assert (vendor / name).is_file(), name
