"""The README's R route, run as written with Rscript: base R reads the CSV, RSQLite the SQLite export.

Needs R with RSQLite, and jsonlite to report back (Debian: apt-get install r-base-core
r-cran-rsqlite r-cran-jsonlite; .ci/run installs them).
Without them the test is skipped on a developer's machine and fails in CI. The README's
arrow and frictionless lines are not tested: those CRAN packages are not in Debian.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, arrow_rows

pytestmark = pytest.mark.slow  # R


README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_r_block() -> str:
    blocks = re.findall(r"```r\n(.*?)```", README, re.S)
    assert len(blocks) == 1, "the README has one R block"
    return blocks[0]


@pytest.fixture(scope="module")
def rscript():
    path = shutil.which("Rscript")
    ok = path and subprocess.run([path, "-e", 'quit(status = !all(sapply(c("RSQLite", "jsonlite"), requireNamespace, quietly = TRUE)))'],
                                 capture_output=True, timeout=120).returncode == 0
    if not ok:
        message = "R, RSQLite and jsonlite are needed: apt-get install r-base-core r-cran-rsqlite r-cran-jsonlite"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def test_readme_r_lines_read_the_csv_and_the_sqlite_file(rscript, sqlite_export, tmp_path):
    (tmp_path / "data").symlink_to(ROOT / "data")
    shutil.copy(sqlite_export, tmp_path / "infocontrols.sqlite")
    report = (
        "\nout <- list(ids = events$event_id, titles = events$title, n_columns = ncol(events),"
        " missing_notes = sum(is.na(events$notes)), wide_ids = wide$event_id, wide_years = wide$year,"
        " wide_urls = wide$source_urls)\n"
        'jsonlite::write_json(out, "out.json", digits = NA)\n'
    )
    script = tmp_path / "readme.R"
    script.write_text(readme_r_block() + report, encoding="utf-8")
    result = subprocess.run([rscript, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                            env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"})
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    events = arrow_rows("events")
    assert out["ids"] == [e["event_id"] for e in events]
    assert out["titles"] == [e["title"] for e in events]
    assert out["n_columns"] == [len(events[0])]
    assert out["missing_notes"] == [sum(e["notes"] is None for e in events)]
    by_id = {e["event_id"]: e for e in events}
    assert sorted(out["wide_ids"]) == sorted(by_id)
    assert out["wide_years"] == [int(by_id[i]["date_start"][:4]) for i in out["wide_ids"]]
    assert all(json.loads(urls) and all(u.startswith("http") for u in json.loads(urls)) for urls in out["wide_urls"])
