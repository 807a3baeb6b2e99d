"""The explorer, through Datasette's own test client: metadata, facets, labels, search, event pages.

Every expected value is computed from the data (ic.load), not written down.
"""
from __future__ import annotations

import asyncio
import collections
import subprocess
import sys
from urllib.parse import quote

import pytest
from markupsafe import escape

import infocontrols as ic
from infocontrols.contract import Contract
from infocontrols.explorer import ExplorerError, make_datasette
from infocontrols.explorer.event_page import display_number
from infocontrols.explorer.metadata import DATABASE, column_description

from conftest import ROOT, arrow_rows

pytestmark = pytest.mark.slow  # Datasette over the SQLite export


CONTRACT = Contract.from_source(ROOT)
EVENTS = arrow_rows("events")


class Client:
    """Datasette's in-process client, all requests on one event loop."""

    def __init__(self, ds):
        self.ds, self.loop = ds, asyncio.new_event_loop()

    def get(self, path: str):
        response = self.loop.run_until_complete(self.ds.client.get(path))
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        return response


@pytest.fixture(scope="module")
def client(sqlite_export):
    c = Client(make_datasette(sqlite_export, root=ROOT))
    yield c
    c.loop.close()


def test_front_page_has_title_licence_version_and_citation(client):
    html = client.get("/").text
    meta = CONTRACT.metadata
    assert str(escape(meta["title"])) in html
    assert f'href="{meta["licenses"][0]["path"]}"' in html
    assert f"Version {ic.__version__}" in html
    assert f"(Version {ic.__version__}) [Data set]" in html and f"version = {{{ic.__version__}}}" in html
    assert f'href="/{DATABASE}"' in html and "_memory" not in html


@pytest.mark.parametrize("table", list(CONTRACT.tables))
def test_every_table_and_column_is_described(client, table):
    html = client.get(f"/{DATABASE}/{table}?_size=1").text
    schema_table = CONTRACT.table(table)
    assert str(escape(schema_table.description)) in html
    for field in schema_table.fields:
        assert f"<dt>{field.name}</dt>" in html, field.name
        assert str(escape(column_description(CONTRACT, field))) in html, field.name


def test_coded_columns_are_described_with_their_labels():
    field = CONTRACT.table("events").field("event_type")
    text = column_description(CONTRACT, field)
    vocab = CONTRACT.vocabulary("event_type")
    assert all(f"{code} = {vocab.labels[code]}" in text for code in vocab.codes)


@pytest.mark.parametrize("column", ["control_domain", "event_type", "evidence_status", "year"])
def test_event_facets_count_what_the_data_holds(client, column):
    data = client.get(f"/{DATABASE}/events.json?_size=0").json()
    results = data["facet_results"][column]["results"]
    if column == "year":
        expected = collections.Counter(int(e["date_start"][:4]) for e in EVENTS)
    else:
        expected = collections.Counter(e[column] for e in EVENTS)
    assert {r["value"]: r["count"] for r in results} == dict(expected)
    if column != "year":
        labels = CONTRACT.vocabulary(CONTRACT.table("events").field(column).vocabulary).labels
        assert {r["value"]: r["label"] for r in results} == {code: labels[code] for code in expected}


def test_filtering_by_a_facet_returns_the_matching_events(client):
    domain = collections.Counter(e["control_domain"] for e in EVENTS).most_common()[-1][0]
    data = client.get(f"/{DATABASE}/events.json?control_domain={domain}&_shape=objects&_size=max").json()
    expected = sorted(e["event_id"] for e in EVENTS if e["control_domain"] == domain)
    assert data["filtered_table_rows_count"] == len(expected)
    assert sorted(row["event_id"] for row in data["rows"]) == expected


def test_json_api_returns_the_rows_of_ic_load(client):
    data = client.get(f"/{DATABASE}/events.json?_shape=objects&_size=max&_sort=event_id").json()
    assert data["filtered_table_rows_count"] == len(EVENTS)
    served = {row["event_id"]: row for row in data["rows"]}
    for event in EVENTS:
        row = dict(served[event["event_id"]])
        assert row.pop("year") == int(event["date_start"][:4])
        assert row == event


def test_codes_are_shown_with_their_labels(client):
    data = client.get(f"/{DATABASE}/events.json?_labels=on&_shape=objects&_size=5").json()
    labels = CONTRACT.vocabulary("event_type").labels
    for row in data["rows"]:
        assert row["event_type"]["label"] == labels[row["event_type"]["value"]]
    html = client.get(f"/{DATABASE}/events?_size=5").text
    assert str(escape(labels[data["rows"][0]["event_type"]["value"]])) in html


def test_source_urls_are_links(client):
    data = client.get(f"/{DATABASE}/sources.json?_shape=objects&_size=20").json()
    html = client.get(f"/{DATABASE}/sources?_size=20").text
    assert len(data["rows"]) == 20
    for row in data["rows"]:
        assert f'<a href="{escape(row["url"])}">' in html, row["url"]


def test_search_finds_events_by_a_word_of_their_summary(client):
    event = max(EVENTS, key=lambda e: len(e["summary"]))
    word = max((w for w in event["summary"].split() if w.isalpha()), key=len)
    data = client.get(f"/{DATABASE}/events.json?_search={quote(word)}&_shape=objects&_size=max").json()
    assert event["event_id"] in {row["event_id"] for row in data["rows"]}
    assert all(
        any(word.lower() in (row[c] or "").lower() for c in ("title", "summary", "notes")) for row in data["rows"]
    )


def an_event_with_many_sources_and_figures() -> str:
    sources = collections.Counter(r["event_id"] for r in arrow_rows("event_sources"))
    figures = collections.Counter(r["event_id"] for r in arrow_rows("figures"))
    return max(figures, key=lambda e: (sources[e] * figures[e], e))


def test_event_page_shows_its_sources_figures_actors_and_measures(client):
    event_id = an_event_with_many_sources_and_figures()
    html = client.get(f"/{DATABASE}/events/{event_id}").text
    sources = {s["source_id"]: s for s in arrow_rows("sources")}
    linked = [r for r in arrow_rows("event_sources") if r["event_id"] == event_id]
    assert f"Sources ({len(linked)})" in html
    for link in linked:
        assert f'class="source-link" href="{escape(sources[link["source_id"]]["url"])}"' in html
    event = next(e for e in EVENTS if e["event_id"] == event_id)
    for field in CONTRACT.table("events").fields:
        if field.vocabulary:  # codes are shown with their labels
            label = CONTRACT.vocabulary(field.vocabulary).labels[event[field.name]]
            assert f"{escape(label)} <span class=\"code\">({event[field.name]})</span>" in html, field.name
    figures = [f for f in arrow_rows("figures") if f["event_id"] == event_id]
    assert f"Figures ({len(figures)})" in html and len(figures) > 0
    for figure in figures:
        assert f">{display_number(figure['value'])}</td>" in html
    actors = {a["actor_id"]: a["name"] for a in arrow_rows("actors")}
    for link in arrow_rows("event_actors"):
        if link["event_id"] == event_id:
            assert str(escape(actors[link["actor_id"]])) in html
    measures = {m["measure_id"]: m["name"] for m in arrow_rows("measures")}
    for link in arrow_rows("event_measures"):
        if link["event_id"] == event_id:
            assert str(escape(measures[link["measure_id"]])) in html


def test_events_wide_view_has_the_same_facets(client):
    data = client.get(f"/{DATABASE}/events_wide.json?_size=0").json()
    assert set(data["facet_results"]) == {"control_domain", "event_type", "evidence_status", "year"}
    assert data["filtered_table_rows_count"] == len(EVENTS)


def test_a_missing_database_file_is_an_actionable_error(tmp_path):
    with pytest.raises(ExplorerError, match="infocontrols export sqlite"):
        make_datasette(tmp_path / "nothing.sqlite", root=ROOT)
    result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "serve", "--db", str(tmp_path / "nothing.sqlite")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_importing_the_package_imports_no_optional_dependency():
    code = ("import sys, infocontrols as ic; ic.tables(); "
            "print(sorted(m for m in ('datasette', 'matplotlib', 'mlcroissant', 'selenium') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_a_port_in_use_is_an_actionable_error(sqlite_export):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "serve", "--db", str(sqlite_export), "--port", str(port)],
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--port" in result.stderr and result.stderr.count("\n") == 1
