"""`python -m app migrate|seed|serve|check|recompute|tokens create|list|revoke|openapi|mirror`."""

import argparse
import json
import sys
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError

from app.config import ROOT, get_settings


def migrate() -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    command.upgrade(config, "head")


def seed() -> None:
    from sqlmodel import Session

    from app.db import get_engine
    from seed import load, summary

    with Session(get_engine()) as session:
        counts = load(session)
        session.commit()
        print(summary(session, counts))


def serve() -> int:
    import socket

    import uvicorn

    settings = get_settings()
    with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            print(
                f"error: cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
                "set PORT (or HOST) to a free address",
                file=sys.stderr,
            )
            return 1
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        proxy_headers=True,
        server_header=False,
    )
    return 0


def check() -> int:
    """One line per stored derived value that differs from its definition; exit 1 if any."""
    from sqlmodel import Session

    from app.db import get_engine
    from app.services import derived

    found = 0
    with Session(get_engine()) as session:
        for difference in derived.check(session):
            print(difference.line())
            found += 1
    print(f"{found} stored values differ from their definitions", file=sys.stderr)
    return 1 if found else 0


def recompute(after: int) -> int:
    """Write every definition's answer, one catalogue per transaction, progress on stderr."""
    from sqlmodel import Session

    from app.db import get_engine
    from app.services import derived

    engine = get_engine()
    total = derived.recompute(
        lambda: Session(engine), after=after, progress=lambda line: print(line, file=sys.stderr)
    )
    print(f"{total} values changed")
    return 0


_FLAGS = {"unit_code": "--unit", "expires_days": "--expires-days", "role": "--role"}


def tokens(args: argparse.Namespace) -> int:
    """The same rules and the same history as POST/DELETE /api/v1/tokens (services.tokens)."""
    from sqlmodel import Session

    from app.auth import SYSTEM
    from app.db import get_engine
    from app.models.common import Role
    from app.models.token import ApiToken
    from app.services import tokens as service

    with Session(get_engine()) as session:
        if args.action == "create":
            try:
                token, secret = service.issue(
                    session,
                    role=Role(args.role),
                    unit_code=args.unit,
                    label=args.label,
                    expires_at=service.expiry(days=args.expires_days),
                    actor=SYSTEM,
                )
            except service.TokenProblem as exc:
                print(f"error: {_FLAGS.get(exc.field, exc.field)}: {exc}", file=sys.stderr)
                return 2
            session.commit()
            print(f"token {token.id} ({token.role}, unit {token.unit_code or '-'}):")
            print(secret)
        elif args.action == "list":
            for row in service.listing(session):
                print(json.dumps(service.describe(row), ensure_ascii=False))
        else:
            found = session.get(ApiToken, args.id)
            if found is None:
                print(f"error: no token {args.id}", file=sys.stderr)
                return 2
            if found.revoked_at is None:
                service.revoke(session, found, actor=SYSTEM)
                session.commit()
            print(f"token {args.id} revoked")
    return 0


def openapi(path: str | None) -> None:
    from app.main import app

    text = json.dumps(app.openapi(), ensure_ascii=False, indent=2) + "\n"
    if path:
        Path(path).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def page_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("must be 1 to 1,000")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the database to the latest migration")
    commands.add_parser("seed", help="load seed/ idempotently")
    commands.add_parser("serve", help="run the HTTP server on HOST:PORT")
    commands.add_parser(
        "check", help="list stored derived values that differ from their rules (exit 1 if any)"
    )
    again = commands.add_parser(
        "recompute", help="bring every stored derived value in line with the rules (idempotent)"
    )
    again.add_argument(
        "--after",
        type=int,
        default=0,
        help="resume: skip the catalogues up to this id (the last one reported)",
    )
    spec = commands.add_parser("openapi", help="print (or write) the OpenAPI document")
    spec.add_argument("--out", help="write to this file instead of stdout")
    token_parser = commands.add_parser("tokens", help="API tokens")
    token_actions = token_parser.add_subparsers(dest="action", required=True)
    create = token_actions.add_parser("create", help="make a token; prints it on the last line")
    create.add_argument("--role", required=True, choices=["editor", "auditor", "admin"])
    create.add_argument("--unit", help="the unit code (required for editors)")
    create.add_argument("--label", help="who or what the token is for")
    create.add_argument("--expires-days", type=int, help="expire after this many days")
    token_actions.add_parser("list", help="list tokens (never the secrets)")
    revoke = token_actions.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    mirror = commands.add_parser(
        "mirror", help="write every published catalogue as static files (docs/mirror.md)"
    )
    mirror.add_argument("--out", required=True, help="the directory to keep in step")
    mirror.add_argument(
        "--base-url",
        default="http://127.0.0.1:8000",
        help="the service to follow (default http://127.0.0.1:8000)",
    )
    mirror.add_argument(
        "--page-size",
        type=page_size,
        default=1000,
        help="changes asked for per feed page, 1 to 1,000 (default 1,000)",
    )
    args = parser.parse_args(argv)
    try:
        return run(args)
    except OperationalError as exc:
        # A missing database, a server that is down, a schema never migrated: one line
        # that says what to do, not a traceback.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        hint = " (run `python -m app migrate` first)" if "no such table" in reason else ""
        url = make_url(get_settings().database_url).render_as_string(hide_password=True)
        print(f"error: database {url}: {reason}{hint}", file=sys.stderr)
        return 1


def run(args: argparse.Namespace) -> int:
    if args.command == "migrate":
        migrate()
    elif args.command == "seed":
        seed()
    elif args.command == "serve":
        return serve()
    elif args.command == "openapi":
        openapi(args.out)
    elif args.command == "mirror":
        from app import mirror

        return mirror.run(args.out, args.base_url, page_size=args.page_size)
    elif args.command == "check":
        return check()
    elif args.command == "recompute":
        return recompute(args.after)
    else:
        return tokens(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
