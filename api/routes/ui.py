"""The planner page: ``GET /`` and its static files, plus ``GET /v1/whoami`` for the page's sign-in.

The page is plain HTML, CSS and JavaScript shipped inside the package
(``api/static``), with its one library (vis-timeline) vendored: nothing is
built at install time and nothing is fetched from a CDN at run time.

The files are served by a :class:`~starlette.staticfiles.StaticFiles` instance
called from ordinary routes rather than mounted, so that the router carries
them into any app that includes it (``include_router`` does not copy mounts).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from api.deps import CallerDep
from api.schemas import ErrorOut

STATIC = Path(__file__).resolve().parent.parent / "static"

# Only this origin's scripts run; styles may be inline because vis-timeline injects its
# stylesheet and positions its items with style attributes. The API key never leaves the page.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

router = APIRouter(tags=["ui"])
_files = StaticFiles(directory=STATIC, check_dir=False)


class WhoAmI(BaseModel):
    role: str
    name: str
    plants: list[str] | None = None  # the plants the key is limited to; None: every plant


@router.get("/v1/whoami", response_model=WhoAmI, responses={401: {"model": ErrorOut}})
def whoami(caller: CallerDep) -> WhoAmI:
    """The role and name of the key: the page shows what the role may do and hides the rest."""
    plants = sorted(caller.plants) if caller.plants is not None else None
    return WhoAmI(role=caller.role, name=caller.name, plants=plants)


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
async def planner_page(request: Request) -> Response:
    return _no_store(await _files.get_response("index.html", request.scope), page=True)


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def static_file(path: str, request: Request) -> Response:
    """A file under ``api/static``; StaticFiles refuses paths that leave the folder."""
    return _no_store(await _files.get_response(path, request.scope), page=False)


def _no_store(response: Response, page: bool) -> Response:
    # revalidate every time (ETag/Last-Modified make that a 304): an upgraded service never
    # runs with yesterday's script from the browser's heuristic cache
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if page:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Referrer-Policy"] = "no-referrer"
    return response
