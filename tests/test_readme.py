"""The README works as written: its two commands come first, and its DuckDB SQL runs."""
from __future__ import annotations

import re

import duckdb

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["bash scripts/setup.sh", ".venv/bin/python -m pytest -q"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/setup.sh" in ci and ".venv/bin/python -m pytest -q" in ci


def test_readme_duckdb_queries_run_on_the_parquet_files(monkeypatch):
    monkeypatch.chdir(ROOT)
    sql = re.search(r"```sql\n(.*?)```", README, re.S).group(1)
    statements = [s.strip() for s in re.sub(r"--[^\n]*", "", sql).split(";") if s.strip()]
    assert len(statements) == 2
    by_domain = duckdb.sql(statements[0]).fetchall()
    assert sum(n for _, n in by_domain) == len(duckdb.sql("SELECT * FROM 'data/events.parquet'").fetchall())
    joined = duckdb.sql(statements[1]).fetchall()
    assert joined and all(url.startswith("http") for _, url in joined)


def test_readme_shows_the_generated_summary():
    block = re.search(r"<!-- generated:summary -->\n```\n(.*?)```", README, re.S).group(1)
    assert block.startswith("infocontrols ") and "events by control domain:" in block
