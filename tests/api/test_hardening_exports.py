"""Formula injection through the service (issue #13): the schedule's CSVs and workbook.

A planner uploads ids and names that a spreadsheet would run; every export of the plan
carries them as text (``'`` in front in CSV, a quoted text cell in the workbook).
"""

from __future__ import annotations

import csv
import io as stdio

import openpyxl
from fastapi.testclient import TestClient

from solver import io
from tests.api.conftest import PLANNER, solved_plan
from tests.test_spreadsheet_safety import CUSTOMER, ORDER, OTHER_ORDER, PRODUCT, injected_dataset


def test_schedule_exports_escape_formula_text(client: TestClient) -> None:
    response = client.put("/v1/dataset", json=io.dataset_document(injected_dataset()), headers=PLANNER)
    assert response.status_code == 200, response.text
    plan_id = solved_plan(client)["plan_id"]

    def table(format: str) -> list[dict[str, str]]:
        response = client.get(f"/v1/plans/{plan_id}/schedule?format={format}", headers=PLANNER)
        assert response.status_code == 200, response.text
        return list(csv.DictReader(stdio.StringIO(response.text)))

    orders = table("csv")
    assert {row["order_id"] for row in orders} == {f"'{ORDER}", f"'{OTHER_ORDER}"}
    assert {(row["customer_name"], row["product_name"]) for row in orders} == {(f"'{CUSTOMER}", f"'{PRODUCT}")}
    assert {row["quantity"] for row in orders} == {"100", "50"}
    assert {(row["order_id"], row["product_name"]) for row in table("daily")} >= {(f"'{ORDER}", f"'{PRODUCT}")}
    assert {(row["customer_name"], row["region"]) for row in table("dispatch")} == {(f"'{CUSTOMER}", "'-region")}

    response = client.get(f"/v1/plans/{plan_id}/schedule?format=xlsx&lang=en", headers=PLANNER)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(stdio.BytesIO(response.content))["Orders"]
    found = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value in (CUSTOMER, PRODUCT, ORDER)]
    assert {c.value for c in found} == {CUSTOMER, PRODUCT, ORDER}
    assert all(c.data_type == "s" and c.quotePrefix for c in found)
    # the JSON document is data: the ids as they were entered
    document = client.get(f"/v1/plans/{plan_id}/schedule", headers=PLANNER).json()
    assert {o["order_id"] for o in document["orders"]} == {ORDER, OTHER_ORDER}
