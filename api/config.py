"""Service settings from the environment (``PAICHAN_*``), via pydantic-settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

ROLES = ("planner", "sales", "batch")


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="PAICHAN_", extra="ignore")

    database_url: str = "sqlite:///./paichan.db"
    # "planner:KEY,sales:KEY,batch:KEY"; several keys per role allowed. Also "role:name:KEY", where
    # everything after the second ':' is the key: the way to write a key that contains ':'.
    api_keys: str = ""
    api_keys_file: Path | None = None  # one "role:KEY" or "role:name:KEY" per line (keys with ',' go here)
    solve_jobs: int = 1  # solves running at once; more wait in the queue
    solver_workers: int = 2  # CP-SAT threads per solve
    max_time_limit_planner: float = 600.0
    max_time_limit_batch: float = 3600.0
    default_time_limit: float = 60.0
    max_body_bytes: int = 20 * 1024 * 1024
    max_uncompressed_bytes: int = 50 * 1024 * 1024  # an uploaded zip or xlsx, all members unpacked
    max_archive_members: int = 200  # entries in an uploaded zip or xlsx (a workbook has a few dozen)
    quote_hold_hours: float = 24.0
    job_heartbeat_seconds: float = 2.0  # a server's heartbeat of its jobs, and how often it sees a cancel
    job_stale_seconds: float = 30.0  # a job owner silent this long is gone: its jobs are taken over or failed
    # a Celery broker ("redis://host:6379/0"): solves go to `paichan worker` processes; unset, the
    # API solves them itself (solve_jobs at once)
    broker_url: str | None = None
    worker_concurrency: int = 1  # solves at once per `paichan worker`
    # a solve whose worker was lost runs again on another worker until it has been tried this often
    job_max_attempts: int = 2
    # seconds a Redis broker waits for an unacknowledged solve before handing it out again; longer
    # than the longest solve, so a running solve is never handed out twice (lost workers are caught
    # sooner by the job heartbeat)
    broker_visibility_timeout: float = 2 * 3600 + 600
    max_horizon_days: int = 1000  # the longest plant.json horizon_days a dataset may ask for

    def model_post_init(self, _: object) -> None:
        # the loader reads its bound from the module; the service's setting is the one in force
        from solver import io

        io.MAX_HORIZON_DAYS = self.max_horizon_days

    def max_time_limit(self, role: str) -> float:
        return self.max_time_limit_batch if role == "batch" else self.max_time_limit_planner


@lru_cache
def get_settings() -> Settings:
    return Settings()
