"""Errors that carry their HTTP status, and the handlers that render them."""

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from sqlalchemy.orm.exc import StaleDataError

from app.config import get_settings


class AppError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def content(self) -> dict[str, Any]:
        """The JSON body: {"detail": message}, unless the error carries a richer answer."""
        return {"detail": self.message}


class BadRequest(AppError):
    status_code = 400


class Unauthorized(AppError):
    status_code = 401


class Forbidden(AppError):
    status_code = 403


class NotFound(AppError):
    status_code = 404


class Conflict(AppError):
    status_code = 409


class Stale(AppError):
    status_code = 412


class TooLarge(AppError):
    status_code = 413


class UnsupportedMedia(AppError):
    status_code = 415


class IfMatchRequired(AppError):
    status_code = 428


class Unavailable(AppError):
    """503: the service is busy; Retry-After says when to try again."""

    status_code = 503


_ENTITY_TAG = re.compile(r'^(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"$')


def etag_matches(if_match: str, etag: str) -> bool:
    """If-Match as RFC 9110 §13.1.1 reads it: `*` matches any current representation; else
    a comma-separated list of entity tags, compared strongly (a weak tag never matches).
    A value that is not a list of quoted tags is a 400 saying what one looks like, so a
    client that sends `i3.4` learns to quote it instead of being told someone else wrote."""
    value = if_match.strip()
    if value == "*":
        return True
    tags = [tag.strip() for tag in value.split(",")]
    if not tags or any(not _ENTITY_TAG.match(tag) for tag in tags):
        raise BadRequest(
            f"If-Match 格式无效：须为带引号的 ETag（如 {etag}）或 * / If-Match is malformed: "
            f"send the ETag as received, quotes included (like {etag}), or *"
        )
    return etag in tags


STALE_MESSAGE = (
    "资源已被他人修改，请重新读取 / the resource was changed by someone else; read it again"
)


def invalid(loc: tuple[str | int, ...], msg: str, kind: str) -> RequestValidationError:
    """A 422 in FastAPI's own shape, for rules that need the database."""
    return invalid_all([{"loc": loc, "msg": msg, "type": kind}])


def invalid_all(errors: Sequence[Mapping[str, Any]]) -> RequestValidationError:
    """One 422 naming every broken rule: each error a {"loc", "msg", "type"} as `invalid`
    takes them. The only way a service says 422 (an import's report: `Rejected`)."""
    return RequestValidationError(list(errors))


class Rejected(AppError):
    """422 whose body is a report (an import with errors), plus the errors in FastAPI's
    shape under `detail`; `body` builds it from the message, so the report stays typed."""

    status_code = 422

    def __init__(self, message: str, body: dict[str, Any]) -> None:
        super().__init__(message)
        self.body = body

    def content(self) -> dict[str, Any]:
        return self.body


def too_large(limit: int, zh: str = "请求体", en: str = "request body") -> TooLarge:
    """The one 413 message: what was too large (a request body, a file) and its cap."""
    return TooLarge(f"{zh}过大（上限 {limit} 字节）/ {en} too large (limit {limit} bytes)")


def retry_after() -> dict[str, str]:
    return {"Retry-After": str(get_settings().retry_after_seconds)}


def render_app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    if exc.status_code == 503:
        headers = retry_after()
    return JSONResponse(exc.content(), status_code=exc.status_code, headers=headers)


BUSY = (
    "服务繁忙，数据库暂不可用，请稍后重试 / the service is busy and the database is not "
    "available right now; try again shortly"
)
_BUSY_SQLITE = ("database is locked", "database table is locked", "database is busy")
_BUSY_POSTGRES = {"55P03", "57014", "40001", "40P01", "53300"}
"""lock_not_available, query_canceled (statement timeout), serialization_failure,
deadlock_detected, too_many_connections: all pass if the client tries again."""


def is_busy(exc: BaseException) -> bool:
    """A database error that means "not now" rather than "wrong"."""
    if isinstance(exc, SQLAlchemyTimeout):  # no pooled connection within pool_timeout
        return True
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    return any(text in str(orig) for text in _BUSY_SQLITE) or (
        getattr(orig, "sqlstate", None) in _BUSY_POSTGRES
    )


def render_database_error(request: Request, exc: Exception) -> JSONResponse:
    """The one place a busy database becomes 503 + Retry-After; anything else stays 500."""
    if not is_busy(exc):
        raise exc
    logging.getLogger("uvicorn.error").warning(
        "503 busy database on %s %s: %s",
        request.method,
        request.url.path,
        str(exc).splitlines()[0][:200],
    )
    return JSONResponse({"detail": BUSY}, status_code=503, headers=retry_after())


def render_stale_data(_request: Request, _exc: Exception) -> JSONResponse:
    # The ORM's version check lost a race that If-Match alone cannot see.
    return JSONResponse({"detail": STALE_MESSAGE}, status_code=412)


# pydantic speaks English only; every rule it enforces gets its Chinese name here.
_RULES_ZH = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不允许的字段",
    "string_too_short": "不能为空",
    "too_short": "不能为空",
    "string_too_long": "超过最大长度",
    "string_pattern_mismatch": "格式不符合规则",
    "string_type": "须为字符串",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "bool_type": "须为布尔值",
    "bool_parsing": "须为布尔值",
    "list_type": "须为数组",
    "dict_type": "须为对象",
    "model_type": "须为对象",
    "model_attributes_type": "须为对象",
    "date_type": "须为日期 YYYY-MM-DD",
    "date_parsing": "须为日期 YYYY-MM-DD",
    "date_from_datetime_parsing": "须为日期 YYYY-MM-DD",
    "date_from_datetime_inexact": "须为日期 YYYY-MM-DD",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "greater_than": "数值过小",
    "less_than": "数值过大",
    "json_invalid": "JSON 格式错误",
    "enum": "不是允许的取值",
    "literal_error": "不是允许的取值",
    "url_parsing": "须为有效的网址",
    "url_scheme": "须为 http 或 https 网址",
    "too_long": "条目过多",
}


def bilingual(error: dict[str, Any]) -> str:
    msg = str(error.get("msg", ""))
    if error.get("type") == "value_error":
        return msg.removeprefix("Value error, ")  # our own validators already write both
    if any("\u4e00" <= ch <= "\u9fff" for ch in msg):
        return msg
    field = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
    zh = _RULES_ZH.get(str(error.get("type")), "输入无效")
    return f"{field}：{zh} / {field}: {msg}"


_CONTEXT = ("item_id", "position")
"""Fields a rule may add to an error beside loc/msg/type: which item (id and position)."""


def validation_detail(errors: Any) -> list[dict[str, Any]]:
    """Keep loc/msg/type (and an item's id and position where a rule names one) only:
    `input` and `ctx` may echo huge or binary bodies back."""
    return [
        {"loc": list(e["loc"]), "msg": bilingual(e), "type": e["type"]}
        | {key: e[key] for key in _CONTEXT if key in e}
        for e in errors
    ]


def render_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": validation_detail(exc.errors())}, status_code=422)


HANDLERS: dict[type[Exception], Any] = {
    AppError: render_app_error,
    DBAPIError: render_database_error,
    SQLAlchemyTimeout: render_database_error,
    StaleDataError: render_stale_data,
    RequestValidationError: render_validation_error,
}
