"""The README's marked parts, as the tests that keep them true read them.

A part is marked by an HTML comment line ``<!-- name: ... -->`` right before it: a fenced code block
(a snippet a user copies) or a table.
"""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _after_marker(name: str) -> list[str]:
    lines = README.read_text().splitlines()
    (start,) = [i for i, line in enumerate(lines) if line.startswith(f"<!-- {name}:")]
    return lines[start + 1 :]


def readme_snippet(name: str) -> str:
    """The fenced code block right after the marker ``name``."""
    rest = "\n".join(_after_marker(name))
    match = re.match(r"\s*```\w*\n(.*?)\n```", rest, re.DOTALL)
    assert match, f"no code block after <!-- {name}: --> in {README}"
    return match.group(1)


def readme_table(name: str) -> list[list[str]]:
    """The rows (header and separator left out) of the Markdown table right after the marker."""
    rows = []
    for line in _after_marker(name)[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows
