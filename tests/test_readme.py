"""The README works as written: its two commands come first, and its DuckDB SQL runs."""
from __future__ import annotations

import re
from collections import Counter

import duckdb

from conftest import ROOT, csv_rows

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
    # Expected results come from the CSV files read with the csv module, not from the Parquet files.
    events = csv_rows("events")
    by_domain = duckdb.sql(statements[0]).fetchall()
    assert dict(by_domain) == Counter(e["control_domain"] for e in events)
    assert [n for _, n in by_domain] == sorted((n for _, n in by_domain), reverse=True), "ORDER BY 2 DESC"
    joined = duckdb.sql(statements[1]).fetchall()
    urls = {s["source_id"]: s["url"] for s in csv_rows("sources")}
    titles = {e["event_id"]: e["title"] for e in events}
    expected = Counter((titles[link["event_id"]], urls[link["source_id"]]) for link in csv_rows("event_sources"))
    assert Counter(joined) == expected and joined


def test_readme_shows_the_generated_summary():
    block = re.search(r"<!-- generated:summary -->\n```\n(.*?)```", README, re.S).group(1)
    assert block.startswith("infocontrols ") and "events by control domain:" in block


def test_readme_disagreement_query_lists_the_quantities_whose_sources_differ_in_the_csv(monkeypatch):
    monkeypatch.chdir(ROOT)
    sql = re.findall(r"```sql\n(.*?)```", README, re.S)[1]
    found = {(event, quantity) for event, quantity, *_ in duckdb.sql(sql).fetchall()}
    values: dict[tuple[str, str], set[float]] = {}
    for figure in csv_rows("figures"):
        values.setdefault((figure["event_id"], figure["quantity"]), set()).add(float(figure["value"]))
    assert found == {key for key, claimed in values.items() if len(claimed) > 1} and found
