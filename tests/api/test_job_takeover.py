"""A solve whose job was taken from it (its worker was taken for lost) must not write its result."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from api import planning
from api.db import DEFAULT_PLANT, Database, PlanJob
from tests.api.conftest import PLANNER


def _queued_job(client: TestClient) -> tuple[Database, str]:
    database = client.app.state.database
    with database.plant_session(DEFAULT_PLANT) as session:
        job = planning.new_job(session, planning.PlanParameters(time_limit_s=2), "planner:test")
    return database, job.plan_id


def _take_over(database: Database, plan_id: str, **values: object) -> None:
    with database.sessions() as session:
        session.execute(update(PlanJob).where(PlanJob.plan_id == plan_id).values(**values))
        session.commit()


def test_a_result_is_not_written_over_a_job_claimed_again_elsewhere(client: TestClient, loaded: dict) -> None:
    database, plan_id = _queued_job(client)
    taken = []

    def lose_the_job(_progress: object) -> None:  # mid-solve: the reaper requeued it, another worker claimed it
        if not taken:
            _take_over(database, plan_id, owner="other-worker", attempts=PlanJob.attempts + 1)
            taken.append(True)

    solved = planning.run_job(database, plan_id, 1, progress=lose_the_job, owner="lost-worker")
    assert solved is not None and taken
    with database.sessions() as session:
        job = session.get(PlanJob, plan_id)
        assert (job.status, job.owner, job.attempts, job.schedule) == ("running", "other-worker", 2, None)


def test_a_result_is_not_written_over_a_job_failed_meanwhile(client: TestClient, loaded: dict) -> None:
    database, plan_id = _queued_job(client)

    def fail_the_job(_progress: object) -> None:  # the reaper gave up on it: the last attempt was lost
        _take_over(database, plan_id, status="failed", error="interrupted: its worker was lost")

    planning.run_job(database, plan_id, 1, progress=fail_the_job, owner="lost-worker")
    plan = client.get(f"/v1/plans/{plan_id}", headers=PLANNER).json()
    assert plan["status"] == "failed" and plan["error"].startswith("interrupted") and plan["valid"] is None


def test_the_attempt_that_holds_the_job_writes_its_result(client: TestClient, loaded: dict) -> None:
    database, plan_id = _queued_job(client)
    solved = planning.run_job(database, plan_id, 1, owner="this-worker")
    assert solved is not None and not solved.violations
    plan = client.get(f"/v1/plans/{plan_id}", headers=PLANNER).json()
    assert plan["status"] == "succeeded" and plan["valid"] is True
