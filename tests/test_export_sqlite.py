"""The SQLite export: declared types and keys, clean foreign keys, indexes, full-text search, the wide view."""
from __future__ import annotations

import json
import math
import re
import sqlite3
import subprocess
import sys

import pytest

import infocontrols as ic
from infocontrols.contract import Contract
from infocontrols.export_sqlite import (
    SOURCE_HOST_COLUMNS, SQLITE_TYPES, VIEW, ExportError, derived_columns, export_sqlite, fts_table, full_text_columns,
    vocabulary_table,
)

from conftest import ROOT, arrow_rows, csv_rows

CONTRACT = Contract.from_source(ROOT)


@pytest.fixture(scope="module")
def db(sqlite_export):
    connection = sqlite3.connect(f"file:{sqlite_export}?mode=ro", uri=True)
    yield connection
    connection.close()


def foreign_keys(db, table: str) -> set[tuple]:
    """(from columns, referenced table, to columns) of each foreign key SQLite knows for ``table``."""
    groups: dict[int, list] = {}
    for fk_id, seq, other, from_, to in db.execute('SELECT id, seq, "table", "from", "to" FROM pragma_foreign_key_list(?)', (table,)):
        groups.setdefault(fk_id, []).append((seq, other, from_, to))
    out = set()
    for parts in groups.values():
        parts.sort()
        out.add((tuple(p[2] for p in parts), parts[0][1], tuple(p[3] for p in parts)))
    return out


def test_every_table_has_its_declared_columns_types_and_primary_key(db):
    for table in CONTRACT.tables.values():
        info = db.execute('SELECT name, type, "notnull", pk FROM pragma_table_info(?)', (table.name,)).fetchall()
        derived = list(derived_columns(CONTRACT, table))  # sources: host, host_kind, attribution (tests/test_hosts.py)
        assert derived == (list(SOURCE_HOST_COLUMNS) if table.name == "sources" else [])
        info = info[: len(info) - len(derived)]
        assert [r[0] for r in info] == table.field_names, table.name
        assert [r[1] for r in info] == [SQLITE_TYPES.get(f.type, "TEXT") for f in table.fields], table.name
        assert [bool(r[2]) for r in info] == [f.required for f in table.fields], table.name
        assert [r[0] for r in sorted((r for r in info if r[3]), key=lambda r: r[3])] == list(table.primary_key), table.name


def test_every_table_holds_the_same_rows_as_ic_load(db):
    for table in CONTRACT.tables.values():
        columns = ", ".join(f'"{name}"' for name in table.field_names)
        stored = [dict(zip(table.field_names, row)) for row in db.execute(f'SELECT {columns} FROM "{table.name}"')]
        key = lambda row: tuple(str(row[k]) for k in table.primary_key)  # noqa: E731
        assert sorted(stored, key=key) == sorted(arrow_rows(table.name), key=key), table.name
        # and the keys are those of the CSV file, read with the csv module alone
        assert sorted(map(key, stored)) == sorted(map(key, csv_rows(table.name))), table.name


def test_foreign_keys_are_declared_and_all_resolve(db):
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    for table in CONTRACT.tables.values():
        expected = {(fk.fields, fk.reference_table, fk.reference_fields) for fk in table.foreign_keys}
        expected |= {((f.name,), vocabulary_table(f.vocabulary), ("code",)) for f in table.fields if f.vocabulary}
        if derived_columns(CONTRACT, table):
            expected |= {(("host",), "hosts", ("host",)), (("host_kind",), vocabulary_table("host_kind"), ("code",))}
        assert foreign_keys(db, table.name) == expected, table.name


def test_every_foreign_key_has_an_index(db):
    tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    checked = 0
    for table in tables:
        indexes = [
            tuple(c for (c,) in db.execute("SELECT name FROM pragma_index_info(?) ORDER BY seqno", (index,)))
            for (index,) in db.execute("SELECT name FROM pragma_index_list(?)", (table,))
        ]
        for columns, _, _ in foreign_keys(db, table):
            assert any(index[: len(columns)] == columns for index in indexes), (table, columns)
            checked += 1
    assert checked >= sum(len(t.foreign_keys) for t in CONTRACT.tables.values())


def word_in(text: str | None, word: str) -> bool:
    return bool(text) and re.search(rf"(?<![0-9A-Za-z]){re.escape(word)}(?![0-9A-Za-z])", text, re.I) is not None


def a_distinctive_word(rows: list[dict], columns: list[str]) -> str:
    """A long ASCII word from the data that several but not all rows use."""
    words: dict[str, int] = {}
    for row in rows:
        found = {w.lower() for c in columns for w in re.findall(r"[A-Za-z]{7,}", row[c] or "")}
        for w in found:
            words[w] = words.get(w, 0) + 1
    return max((n, w) for w, n in words.items() if 1 < n < len(rows) // 2)[1]


@pytest.mark.parametrize("table", ["events", "sources"])
def test_full_text_search_finds_exactly_the_rows_that_use_a_word(db, table):
    columns = full_text_columns(CONTRACT)[table]
    rows = arrow_rows(table)
    word = a_distinctive_word(rows, columns)
    key = CONTRACT.table(table).primary_key[0]
    expected = {row[key] for row in rows if any(word_in(row[c], word) for c in columns)}
    found = {
        k for (k,) in db.execute(
            f'SELECT t."{key}" FROM "{fts_table(table)}" JOIN "{table}" t ON t.rowid = "{fts_table(table)}".rowid '
            f'WHERE "{fts_table(table)}" MATCH ?', (f'"{word}"',),
        )
    }
    assert found == expected and len(expected) > 1


def test_events_wide_view_matches_ic_events_wide(db):
    wide = ic.events_wide(root=ROOT)
    cursor = db.execute(f'SELECT * FROM "{VIEW}" ORDER BY event_id')
    names = [d[0] for d in cursor.description]
    view = {row[0]: dict(zip(names, row)) for row in cursor}
    assert sorted(view) == sorted(wide["event_id"].astype(str)) == sorted(e["event_id"] for e in csv_rows("events"))
    for _, expected in wide.iterrows():
        row = view[expected["event_id"]]
        for column in ("actor_ids", "actor_names", "actor_roles", "measure_ids", "measure_names", "source_ids", "source_urls", "source_attributions"):
            assert json.loads(row[column]) == [str(v) for v in expected[column]], (expected["event_id"], column)
        figures = json.loads(row["figures"])
        assert [{**f, "value": float(f["value"])} for f in figures] == [
            {k: (float(v) if k == "value" else v) for k, v in f.items()} for f in expected["figures"]
        ]
        assert row["title"] == expected["title"]


def test_year_is_the_year_of_date_start(db):
    rows = db.execute("SELECT year, date_start FROM events").fetchall()
    assert rows and all(year == int(start[:4]) for year, start in rows)


def test_lookup_tables_hold_each_vocabulary_with_labels(db):
    for table in CONTRACT.tables.values():
        for f in table.fields:
            if f.vocabulary:
                vocab = CONTRACT.vocabulary(f.vocabulary)
                rows = db.execute(f'SELECT code, label, definition FROM "{vocabulary_table(f.vocabulary)}" ORDER BY rowid').fetchall()
                assert rows == [(c, vocab.labels[c], vocab.definitions[c]) for c in vocab.codes]


def test_package_info_names_the_version_and_how_to_cite(db):
    info = dict(db.execute("SELECT key, value FROM package_info"))
    assert info["version"] == ic.__version__
    assert f"(Version {ic.__version__})" in info["cite_apa"]
    assert f"version = {{{ic.__version__}}}" in info["cite_bibtex"]


def test_export_is_deterministic(tmp_path, sqlite_export):
    again = export_sqlite(tmp_path / "again.sqlite", root=ROOT)
    assert again.read_bytes() == sqlite_export.read_bytes()


def test_a_broken_foreign_key_is_refused_and_the_old_file_kept(package, tmp_path):
    target = tmp_path / "out.sqlite"
    target.write_bytes(b"previous export")
    package.set_cell("figures", 0, "source_id", "so-no-such-source")
    with pytest.raises(ExportError, match="foreign key"):
        export_sqlite(target, root=package.root)
    assert target.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["out.sqlite"], "no temporary file left"


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "infocontrols.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # the CLI in subprocesses
def test_cli_exports_and_reports_errors_in_one_line(tmp_path, package):
    done = run_cli("export", "sqlite", str(tmp_path / "x.sqlite"), "--package-dir", str(ROOT))
    assert done.returncode == 0 and "x.sqlite" in done.stdout
    with sqlite3.connect(tmp_path / "x.sqlite") as connection:
        assert [k for (k,) in connection.execute("SELECT event_id FROM events ORDER BY event_id")] == sorted(e["event_id"] for e in csv_rows("events"))
    missing = run_cli("export", "sqlite", str(tmp_path / "no" / "such" / "x.sqlite"), "--package-dir", str(ROOT))
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1 and "no such folder" in missing.stderr
    rows = package.rows("events")
    rows.insert(2, list(rows[1]))  # a duplicate primary key
    package.write_rows("events", rows)
    duplicate = run_cli("export", "sqlite", str(tmp_path / "y.sqlite"), "--package-dir", str(package.root))
    assert duplicate.returncode == 2 and "UNIQUE constraint failed" in duplicate.stderr and "Traceback" not in duplicate.stderr
    assert not (tmp_path / "y.sqlite").exists()


def test_numbers_survive_as_real(db):
    values = [v for (v,) in db.execute("SELECT value FROM figures")]
    assert values and all(isinstance(v, float) and not math.isnan(v) for v in values)


def test_readme_sqlite_example_runs_on_the_export(db):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(l for l in readme.splitlines() if l.startswith("sqlite3 infocontrols.sqlite "))
    sql = line.split(" ", 2)[2].strip('"')
    titles = sorted(t for (t,) in db.execute(sql))
    word = re.search(r"MATCH '(\w+)'", sql).group(1)
    expected = sorted(e["title"] for e in arrow_rows("events") if any(word_in(e[c], word) for c in ("title", "summary", "notes")))
    assert titles == expected and titles
