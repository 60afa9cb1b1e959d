"""The ``ember doctor`` report as text for people and JSON for machines, and its exit status."""

from __future__ import annotations

import json

__all__ = ["exit_status", "format_json", "format_text"]

_MARK = {"ok": "[ok]     ", "info": "[info]   ", "warn": "[warn]   ", "missing": "[missing]", "fail": "[FAIL]   "}


def exit_status(checks) -> int:
    """1 when Ember itself cannot run (any ``fail``), else 0: missing extras are not errors."""
    return 1 if any(c.status == "fail" for c in checks) else 0


def format_text(checks) -> str:
    """Section headings, one line per check, and an indented ``fix:`` line under each fixable one."""
    lines = ["Ember doctor"]
    section = None
    for c in checks:
        if c.section != section:
            section = c.section
            lines += ["", f"{section}"]
        lines.append(f"  {_MARK.get(c.status, c.status)} {c.name}: {c.summary}")
        if c.fix and c.status != "ok":
            lines.append(f"              fix: {c.fix}")
    fails = sum(c.status == "fail" for c in checks)
    todo = sum(c.status in ("warn", "missing") for c in checks)
    lines.append("")
    if fails:
        lines.append(f"Ember cannot run here: {fails} problem(s) marked FAIL above.")
    else:
        lines.append(f"Ember can run here. {todo} item(s) to improve or install (see the fix lines).")
    return "\n".join(lines)


def format_json(checks) -> str:
    """``{"ok": bool, "checks": [{section, name, status, summary, fix, data}, ...]}``."""
    return json.dumps({"ok": exit_status(checks) == 0, "checks": [c.to_dict() for c in checks]}, indent=2, default=str)
