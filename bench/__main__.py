"""`python -m bench [name ...]`: run the benchmarks, print their tables.

Each benchmark is a module here with `main() -> str` returning a Markdown section; the
sections are printed and, with --write, stored in docs/benchmarks.md with the command.
"""

import argparse
import importlib
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS: tuple[str, ...] = ("audit",)
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"some of {', '.join(BENCHMARKS)}")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    sections = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        section: str = module.main()
        print(section, flush=True)
        sections.append(section)
    if args.write:
        command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
        header = (
            "# Benchmarks\n\nLatest run: "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
            f"({platform.machine()}, Python {platform.python_version()}), made by "
            f"`{command.strip()}` (`make bench` runs them all).\n\n"
        )
        DOC.write_text(header + "\n\n".join(sections) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
