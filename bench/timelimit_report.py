"""Share of guide items per parsed 公开时限 kind, as the markdown table in docs/time-limits.md.

Reads seed/data/guide_items.json when present (the checked seed), else the raw
../shared/data/guides.json; run `python bench/timelimit_report.py`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, get_args

from app.rules.timelimits import Kind, parse

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seed" / "data" / "guide_items.json"
RAW = ROOT.parent / "shared" / "data" / "guides.json"
# An empty cell means "not seen" in the collected tables, not a text we failed to read.
EMPTY = "(empty: not seen)"


def time_limits() -> tuple[str, list[str]]:
    """Every second-level item's time limit, and which file it came from."""
    if SEED.exists():
        items: list[dict[str, Any]] = json.loads(SEED.read_text(encoding="utf-8"))
        return str(SEED.relative_to(ROOT)), [item.get("time_limit") or "" for item in items]
    domains: list[dict[str, Any]] = json.loads(RAW.read_text(encoding="utf-8"))
    texts = [
        second.get("time_limit") or ""
        for domain in domains
        for first in domain["first_level_items"]
        for second in first["second_level_items"]
    ]
    return "../shared/data/guides.json", texts


def report(source: str, texts: list[str]) -> str:
    counts: Counter[str] = Counter()
    compound = 0
    unparsed: Counter[str] = Counter()
    for text in texts:
        if not text.strip():
            counts[EMPTY] += 1
            continue
        rule = parse(text)
        counts[rule.kind] += 1
        compound += bool(rule.clauses)
        if rule.kind == "unparsed":
            unparsed[text] += 1
    total = len(texts)
    with_text = total - counts[EMPTY]
    lines = [
        f"Source: `{source}`, {total} second-level items, {with_text} with a time limit text.",
        "",
        "| kind | items | share of all | share of items with text |",
        "| --- | ---: | ---: | ---: |",
    ]
    for kind in [*get_args(Kind), EMPTY]:
        n = counts[kind]
        of_text = "" if kind == EMPTY else f"{n / with_text:.1%}"
        lines.append(f"| {kind} | {n} | {n / total:.1%} | {of_text} |")
    lines.append(f"| **total** | {total} | 100.0% | |")
    lines += ["", f"Compound texts (more than one clause): {compound}.", ""]
    lines.append("Unparsed texts:")
    lines += [f"- `{text}` ({n})" for text, n in unparsed.most_common()] or ["- none"]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(*time_limits()))
