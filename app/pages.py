"""The bench page: GET /bench renders the whole page, or only the bench partial for htmx requests."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

ROOT = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=ROOT / "templates")
router = APIRouter(tags=["pages"])


@router.get("/bench", response_class=HTMLResponse)
def get_bench_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "bench.html", {})
