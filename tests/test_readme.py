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


def workflow_runs(name: str, job: str) -> list[str]:
    """The ``run`` commands of one job of a GitHub workflow, in order."""
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    return [step["run"].strip() for step in workflow["jobs"][job]["steps"] if "run" in step]


def test_ci_runs_the_readme_first_command_as_a_user_would_then_checks_it_changed_nothing():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    setup, tests = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    runs = workflow_runs("ci.yml", "test")
    # the writing build, exactly as the README has it (not `--check`), then nothing may have changed,
    # and no generated file may be new to git (git diff alone does not see untracked files)
    assert setup in runs, runs
    changed_nothing = runs[runs.index(setup) + 1]
    assert changed_nothing.startswith("git diff --exit-code && ") and 'test -z "$(git status --porcelain)"' in changed_nothing
    assert tests in runs[runs.index(setup) + 2:], runs
    assert workflow_runs("ci.yml", "review")[-1].startswith("infocontrols diff ")


def test_release_workflow_checks_tests_and_only_then_makes_the_assets():
    runs = workflow_runs("release.yml", "release")
    check, tests = runs.index("bash scripts/setup.sh --check"), runs.index(".venv/bin/python -m pytest -q")
    assets = next(i for i, run in enumerate(runs) if run.startswith(".venv/bin/infocontrols release assets dist --tag"))
    assert check < tests < assets, runs


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
