"""The reference checklist of notable events (data/checklist.csv, docs/coverage.md): recall, and
that every entry is honest about how it maps. Read from the CSV files, not through the loader."""
from __future__ import annotations

import csv
from collections import Counter

from conftest import ROOT


def rows(table: str) -> list[dict]:
    with (ROOT / "data" / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


CHECKLIST = rows("checklist")


def test_recall_is_at_least_95_percent():
    covered = [r for r in CHECKLIST if r["coverage"] == "covered"]
    assert len(CHECKLIST) >= 60
    assert len(covered) / len(CHECKLIST) >= 0.95, (len(covered), len(CHECKLIST))


def test_every_covered_entry_names_an_event_of_the_dataset():
    events = {r["event_id"] for r in rows("events")}
    for entry in CHECKLIST:
        if entry["coverage"] == "covered":
            assert entry["event_id"] in events, entry["entry_id"]


def test_an_entry_left_out_says_why_and_names_no_event():
    for entry in CHECKLIST:
        if entry["coverage"] != "covered":
            assert entry["coverage"] in ("out_of_scope", "insufficient_sources"), entry["entry_id"]
            assert entry["event_id"] == "" and len(entry["reason"]) >= 20, entry["entry_id"]


def test_the_checklist_spans_every_year_and_several_kinds_of_overview():
    years = Counter(r["date"][:4] for r in CHECKLIST)
    assert all(years[y] >= 10 for y in ("2017", "2018", "2019", "2020")), years
    kinds = Counter(r["overview_kind"] for r in CHECKLIST)
    assert sum(1 for k, n in kinds.items() if k != "other" and n >= 3) >= 4, kinds
    assert len({r["overview_url"] for r in CHECKLIST}) >= 30


def test_an_entry_maps_to_an_event_of_its_year():
    """A mapping to an event years away is a mistake; an entry's date is as precise as its overview."""
    events = {r["event_id"]: r for r in rows("events")}
    for entry in CHECKLIST:
        if entry["coverage"] == "covered":
            event = events[entry["event_id"]]
            assert abs(int(event["date_start"][:4]) - int(entry["date"][:4])) <= 1, (entry["entry_id"], event["date_start"])
