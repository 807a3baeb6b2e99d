"""`infocontrols fmt`: canonical CSV (BOM, line endings, NFC, edge whitespace, order, quoting)."""
from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings, strategies as st

from infocontrols.fmt import FormatError, canonical_csv

HEADER = ("id", "name", "notes")


def test_every_mechanical_fix_at_once():
    raw = "\ufeffid,name,notes\r\nb,Cafe\u0301 ,\"x, y\"\r\na,  plain,\"\"\"quoted\"\"\"\r\n".encode()
    assert canonical_csv(raw, HEADER, ("id",)) == 'id,name,notes\na,plain,"""quoted"""\nb,Café,"x, y"\n'.encode()


def test_empty_keys_sort_last_and_ties_keep_their_order():
    raw = b"id,name,notes\n,z,1\nb,y,2\n,x,3\na,w,4\n"
    assert canonical_csv(raw, HEADER, ("id",)) == b"id,name,notes\na,w,4\nb,y,2\n,z,1\n,x,3\n"


@pytest.mark.parametrize(
    "raw, problem",
    [
        (b"id,name\n1,x\n", "header"),
        (b"id,name,notes\n1,x\n", "line 2: 2 cells"),
        (b'id,name,notes\n1,"x\ny",z\n', "line break"),
        (b"id,name,notes\n1,caf\xe9,z\n", "not UTF-8"),
        (b'id,name,notes\n1,"x,z\n', "cannot parse"),
    ],
)
def test_what_needs_a_person_is_refused(raw, problem):
    with pytest.raises(FormatError, match=problem):
        canonical_csv(raw, HEADER, ("id",))


cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=12)


@settings(max_examples=200)
@given(st.lists(st.tuples(cells, cells, cells), max_size=8), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_canonical_form_is_idempotent_and_keeps_every_value(rows, newline, bom):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline, quoting=csv.QUOTE_ALL).writerows([HEADER, *rows])
    raw = (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode()
    once = canonical_csv(raw, HEADER, ("id",))
    assert canonical_csv(once, HEADER, ("id",)) == once
    parsed = list(csv.reader(io.StringIO(once.decode(), newline="")))
    import unicodedata

    expected = sorted(tuple(unicodedata.normalize("NFC", c).strip() for c in row) for row in rows)
    assert sorted(tuple(r) for r in parsed[1:]) == expected
    assert b"\r" not in once and not once.startswith(b"\xef\xbb\xbf")
