"""create_app(): the FastAPI application, its routers and its error handlers."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.admission import Admission
from app.api import api_router
from app.api import dashboard as dashboard_pages
from app.api import docs as api_docs
from app.api.health import router as health_router
from app.api.public import PublicEdge
from app.api.uploads import MULTIPART_SLACK
from app.auth import RedactTokens
from app.config import get_settings
from app.db import ReadOnlyRequests
from app.errors import HANDLERS
from app.limits import BodyLimit
from app.services import freshness, published_cache
from app.serving import tune_interpreter


def operation_id(route: APIRoute) -> str:
    """Stable operationIds: the route function's name (unique across the app)."""
    return route.name


LOGGERS = ("uvicorn.access", "uvicorn.error")


@cache
def freeze_startup_objects() -> None:
    """Once per process, after start-up: hide what importing made (modules, classes, the
    SQLAlchemy and pydantic metadata, some 100,000 objects that live as long as the process)
    from the cyclic garbage collector, so that a collection walks only what requests made.

    A large response (the audit's thousands of rows) triggers several full collections;
    each walked every start-up object again: 215 → 133 ms for the city audit
    (docs/audit.md, "Cost"). Collected first, so no garbage is frozen with them."""
    gc.collect()
    gc.freeze()


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    for name in LOGGERS:  # the server configured its loggers before starting the app
        logger = logging.getLogger(name)
        if not any(isinstance(known, RedactTokens) for known in logger.filters):
            logger.addFilter(RedactTokens())
    freeze_startup_objects()
    tune_interpreter()
    freshness.watch.start(get_settings().database_url, published_cache.forget_published)
    try:
        yield
    finally:
        freshness.watch.stop()


def create_app() -> FastAPI:
    app = FastAPI(
        title="基层政务公开事项标准目录 / Base-level disclosure catalogues",
        version="1.0.0",
        description=(
            "District and township offices maintain their standard catalogues, the city "
            "office audits them, website teams pull the published versions."
        ),
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # served from installed files by app/api/docs.py, not from a CDN
        redoc_url=None,
    )
    for exc_class, handler in HANDLERS.items():
        app.add_exception_handler(exc_class, handler)
    app.include_router(health_router)
    app.include_router(api_router)
    api_docs.mount(app)
    dashboard_pages.register(app)
    settings = get_settings()
    # A coarse guard for every body; the import route caps the file itself precisely.
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        uploads=settings.max_upload_bytes + MULTIPART_SLACK,
    )
    app.add_middleware(
        Admission,
        limit=settings.expensive_concurrency,
        queue=settings.expensive_queue,
        wait=settings.expensive_queue_wait,
    )
    app.add_middleware(PublicEdge)  # published bytes skip the routing
    app.add_middleware(ReadOnlyRequests)  # outermost: every transaction of a GET is deferred
    return app


app = create_app()
