"""参考数据 / the reference rows a request names in its query: one answer for a bad one.

A filter that names no such district or domain is a 422 naming the parameter, on every
route that takes it (milestone status, audits)."""

from sqlmodel import Session

from app.errors import invalid
from app.models.common import UnitKind
from app.models.domain import Domain
from app.models.unit import Unit


def district(session: Session, code: str) -> Unit:
    """The district `code`, or 422 on query.district."""
    unit = session.get(Unit, code)
    if unit is None or unit.kind != UnitKind.district:
        raise invalid(
            ("query", "district"),
            f"{code} 不是已知的区 / {code} is not a known district",
            "unknown_district",
        )
    return unit


def domain(session: Session, code: str) -> Domain:
    """The domain `code`, or 422 on query.domain."""
    row = session.get(Domain, code)
    if row is None:
        raise invalid(
            ("query", "domain"),
            f"领域 {code} 不存在 / unknown domain {code}",
            "unknown_domain",
        )
    return row
