"""Render a validation report as text (grouped and capped), JSON or GitHub annotations."""
from __future__ import annotations

import json
from itertools import groupby

from . import Report
from .findings import ERROR, RULES, Finding

CAP = 5


def location(f: Finding) -> str:
    where = f.file
    if f.line:
        where += f":{f.line}"
    if f.column:
        where += f":{f.column}"
    return where


def as_line(f: Finding) -> str:
    """``data/events.csv:14:event_type: error VOC001: 'censor' is not in vocabulary ...``"""
    return f"{location(f)}: {f.severity} {f.rule}: {f.message}"


def as_text(report: Report, cap: int = CAP) -> str:
    """One line per finding, grouped by rule, the first ``cap`` of each, then the summary.

    Groups of errors come before groups of warnings (each in rule order), so that what must
    be fixed is read first even when the package carries standing warnings.
    """
    lines: list[str] = []
    groups = [(rule_id, list(group)) for rule_id, group in groupby(report.findings, key=lambda f: f.rule)]
    groups.sort(key=lambda item: item[1][0].severity != ERROR)  # stable: rule order within each severity
    for rule_id, group in groups:
        rule = RULES.get(rule_id)
        lines.append(f"{rule_id} ({len(group):,}): {rule.description if rule else ''}")
        lines += ["  " + as_line(f) for f in group[:cap]]
        if len(group) > cap:
            lines.append(f"  +{len(group) - cap:,} more")
    lines.append(("valid: " if report.ok else "invalid: ") + report.summary())
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> str:
    """Every finding as a record, with the summary; for tools."""
    return json.dumps(
        {
            "valid": report.ok,
            "summary": report.summary(),
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "tables": report.tables,
            "rows": report.rows,
            "findings": [f.as_dict() for f in report.findings],
        },
        ensure_ascii=False,
        indent=1,
    ) + "\n"


def escape_data(text: str) -> str:
    """Escape a workflow command's message, as GitHub's runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value: also ':' and ',', which end a property."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def as_github(report: Report) -> str:
    """``::error file=...,line=...,title=...::message`` workflow commands, so findings show on the diff.

    Property values and the message are escaped per GitHub's workflow command rules, so a
    composite key (``event_id,source_id``) or a ``%`` in a message arrives intact.
    """
    lines = []
    for f in report.findings:
        level = "error" if f.severity == "error" else "warning"
        props = [f"file={escape_property(f.file)}"]
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={escape_property(f'{f.rule} {f.column}'.strip())}")
        lines.append(f"::{level} {','.join(props)}::{escape_data(f.message)}")
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


FORMATS = {"text": as_text, "json": as_json, "github": as_github}
