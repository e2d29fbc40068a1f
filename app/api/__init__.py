"""The versioned API: every resource router under /api/v1."""

from fastapi import APIRouter

from app.api import (
    annual_reports,
    audit,
    calendar,
    catalogues,
    imports,
    items,
    milestones,
    opinions,
    public,
    records,
    reference,
    requests,
    time_limits,
    tokens,
    waivers,
)

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(reference.router)
api_router.include_router(catalogues.router)
api_router.include_router(items.router)
api_router.include_router(waivers.router)
api_router.include_router(audit.router)
api_router.include_router(milestones.router)
api_router.include_router(opinions.router)
api_router.include_router(time_limits.router)
api_router.include_router(calendar.router)
api_router.include_router(imports.router)
api_router.include_router(requests.router)
api_router.include_router(public.router)
api_router.include_router(records.router)
api_router.include_router(annual_reports.router)
api_router.include_router(tokens.router)
