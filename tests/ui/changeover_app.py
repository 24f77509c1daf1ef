"""``api.main:app`` planning with changeovers and inspection / dispatch caps (issue #15).

The engine plans them only with ``solver.domain.PLAN_CHANGEOVERS_AND_CAPS`` on; the browser
tests of the changeover views serve this app (solves run in the server's own process), so
their plan has changeovers whether or not the gate is on by default yet.
"""

from solver import domain

domain.PLAN_CHANGEOVERS_AND_CAPS = True

from api.main import app  # noqa: E402  (after the gate: the app reads it at solve time anyway)

__all__ = ["app"]
