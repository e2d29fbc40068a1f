"""Who is asking: a role and, for an editor, its unit. Services take it as `actor`.

Kept apart from app/auth.py (which turns a bearer token into one, with FastAPI
dependencies) so that services never import the HTTP layer."""

from dataclasses import dataclass

from app.models.common import Role, UnitKind
from app.models.unit import Unit


@dataclass(frozen=True)
class Principal:
    role: Role
    unit_code: str | None = None
    unit_kind: UnitKind | None = None
    token_id: int | None = None

    def can_write(self, unit: Unit) -> bool:
        """An editor writes its own unit; a district editor also its streets, towns, departments."""
        if self.role == Role.admin:
            return True
        if self.role != Role.editor or self.unit_code is None:
            return False
        return unit.code == self.unit_code or (
            self.unit_kind == UnitKind.district and unit.parent_code == self.unit_code
        )

    def can_read(self, unit: Unit) -> bool:
        return self.role in (Role.auditor, Role.admin) or self.can_write(unit)
