"""`python -m bench [name ...] [--write]`: run the benchmarks, print their tables.

Each benchmark is a module here with `main() -> str` returning a Markdown section that
starts with a `## ` heading; with --write that section replaces the one of the same
heading in docs/benchmarks.md (or is appended), stamped with when, where and the command.
"""

import argparse
import importlib
import os
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS: tuple[str, ...] = (
    "importing",
    "publish",
    "compression",
    "audit",
    "records",
    "requests",
    "pages",
    "mirror",
    "soak",
)
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def stamp(section: str, command: str) -> str:
    heading, _, body = section.strip().partition("\n")
    line = (
        f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({platform.machine()}, Python {platform.python_version()}), made by `{command}`."
    )
    body = re.sub(r"^\s*Run: .*\n", "", body.lstrip("\n"))
    return f"{heading}\n\n{line}\n\n{body.strip()}\n"


def replace_section(doc: str, section: str) -> str:
    heading = section.partition("\n")[0]
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(doc):
        return pattern.sub(lambda _: section + "\n", doc, count=1)
    return doc.rstrip("\n") + "\n\n" + section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"some of {', '.join(BENCHMARKS)}")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    for name in args.names or BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        section: str = module.main()
        print(section, flush=True)
        if args.write:
            doc = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
            settings = " ".join(
                f"{key}={os.environ[key]}"
                for key in (
                    "BENCH_SECONDS",
                    "BENCH_WORKERS",
                    "BENCH_RATE",
                    "BENCH_RUNS",
                    "BENCH_NATION",
                    "BENCH_CATALOGUES",
                    "BENCH_ROUNDS",
                    "BENCH_CLOCK",
                    "BENCH_REQUESTS_PG",
                )
                if key in os.environ
            )
            command = f"{settings} python -m bench {name} --write".lstrip()
            DOC.write_text(replace_section(doc, stamp(section, command)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
