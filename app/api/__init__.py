"""The versioned API: every resource router under /api/v1."""

from fastapi import APIRouter

from app.api import audit, catalogues, items, reference, waivers

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(reference.router)
api_router.include_router(catalogues.router)
api_router.include_router(items.router)
api_router.include_router(waivers.router)
api_router.include_router(audit.router)
