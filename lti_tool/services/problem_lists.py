"""Long lists of import problems, made readable: the first ``SHOWN`` problems, how many of
each kind there are (by the field they are about, with one example each), and the whole list
as CSV to download. A 10,000-row file with a wrong column produces 10,000 problems; a page
listing them all helps nobody.

Problems are the imports' ``{"where", "field", "message"}`` dicts (``services.catalog_io``,
``services.demonstration_import``). Pure functions; nothing here reads the database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

SHOWN = 100
FILE_KIND = "the file"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ProblemKind:
    field: str        # the field the problems are about ("" for the file or a whole row)
    count: int
    example: str      # the first such problem's message


@dataclass(frozen=True)
class ProblemSummary:
    shown: list[dict[str, str]]
    total: int                     # every problem found (some may not be listed)
    listed: int                    # how many the report lists (the download has these)
    kinds: list[ProblemKind] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return self.listed > len(self.shown)


def _is_count_line(problem: dict[str, str]) -> bool:
    """The "… and N more problems" line an import adds when it stops listing."""
    return not problem.get("field") and problem.get("message", "").startswith("… and ")


def summarise(problems: Sequence[dict[str, str]], total: int | None = None) -> ProblemSummary:
    """The first ``SHOWN`` problems and the count per field (largest first). ``total``:
    how many there were, when the import counted more than it listed."""
    listed = [p for p in problems if not _is_count_line(p)]
    counts: dict[str, int] = {}
    examples: dict[str, str] = {}
    for problem in listed:
        key = problem.get("field") or ""
        counts[key] = counts.get(key, 0) + 1
        examples.setdefault(key, problem.get("message", ""))
    kinds = sorted((ProblemKind(k, n, examples[k]) for k, n in counts.items()),
                   key=lambda kind: (-kind.count, kind.field))
    return ProblemSummary(listed[:SHOWN], max(total or 0, len(listed)), len(listed), kinds)


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas (OWASP "CSV injection"): the messages quote the
    uploaded file."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(problems: Sequence[dict[str, str]]) -> str:
    """Every listed problem as CSV (where, field, problem), for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["where", "field", "problem"])
    for problem in problems:
        if _is_count_line(problem):
            continue
        writer.writerow([_cell(str(problem.get(k, ""))) for k in ("where", "field", "message")])
    return out.getvalue()
