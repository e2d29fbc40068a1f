"""Documented error answers shared by the routers."""

from typing import Any

from pydantic import BaseModel


class Message(BaseModel):
    detail: str


def _answer(description: str) -> dict[str, Any]:
    return {"model": Message, "description": description}


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: _answer("no valid bearer token")}
FORBIDDEN: dict[int | str, dict[str, Any]] = {403: _answer("outside the token's role or scope")}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _answer("unknown unit, domain or item")}
CONFLICT: dict[int | str, dict[str, Any]] = {409: _answer("not allowed in the current state")}
STALE: dict[int | str, dict[str, Any]] = {
    412: _answer("If-Match does not match the current ETag"),
    428: _answer("If-Match is required"),
}
AUTHED = UNAUTHORIZED | FORBIDDEN | NOT_FOUND
