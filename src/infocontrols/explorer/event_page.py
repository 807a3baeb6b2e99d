"""A Datasette plugin: each event's row page also shows its actors, measures, sources and figures.

Datasette's row page shows the event's own fields and counts of linked rows; the people this
is for want the sources and numbers on the same page. This hook fetches them (parameterised
queries) for ``templates/_table-row-infocontrols-events.html`` to show under the event.

Example:
    >>> from datasette.plugins import pm                    # doctest: +SKIP
    >>> pm.register(event_page, name=event_page.PLUGIN)    # doctest: +SKIP
"""
from __future__ import annotations

from datasette import hookimpl
from datasette.utils import urlsafe_components

from .metadata import DATABASE

PLUGIN = "infocontrols-event-page"

# {credit}: the export's attribution and host_kind columns (a page on a copy site reads
# "copy on HOST of ORIGINAL's text"), or the outlet for an export made without a hosts table.
CREDIT = "s.attribution, s.host_kind"
NO_CREDIT = "s.outlet AS attribution, NULL AS host_kind"
SOURCES = """
SELECT s.source_id, s.url, s.title, s.outlet, {credit}, s.published_on, l.stance, s.archive_url
FROM event_sources AS l JOIN sources AS s ON s.source_id = l.source_id
WHERE l.event_id = :event_id ORDER BY l.stance = 'supports' DESC, s.published_on, s.source_id
"""
FIGURES = """
SELECT f.figure_id, f.metric, m.label AS metric_label, f.value, f.unit, u.label AS unit_label,
       f.qualifier, q.label AS qualifier_label, f.source_id, s.outlet, {credit}, s.url, f.notes
FROM figures AS f JOIN sources AS s ON s.source_id = f.source_id
LEFT JOIN vocabulary_metric AS m ON m.code = f.metric
LEFT JOIN vocabulary_unit AS u ON u.code = f.unit
LEFT JOIN vocabulary_qualifier AS q ON q.code = f.qualifier
WHERE f.event_id = :event_id ORDER BY f.figure_id
"""
ACTORS = """
SELECT a.actor_id, a.name, l.role, r.label AS role_label
FROM event_actors AS l JOIN actors AS a ON a.actor_id = l.actor_id
LEFT JOIN vocabulary_role AS r ON r.code = l.role
WHERE l.event_id = :event_id ORDER BY l.actor_id, l.role
"""
MEASURES = """
SELECT m.measure_id, m.name, l.relation, r.label AS relation_label
FROM event_measures AS l JOIN measures AS m ON m.measure_id = l.measure_id
LEFT JOIN vocabulary_relation AS r ON r.code = l.relation
WHERE l.event_id = :event_id ORDER BY l.measure_id, l.relation
"""


def display_number(value) -> str:
    """A figure's value as people write it: no '.0' on whole numbers, thousands separated.

    Example:
        >>> display_number(1430.0), display_number(99.5)
        ('1,430', '99.5')
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}"


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    """On an event's row page, the event's code labels, sources, figures, actors and measures.

    Example: ``GET /infocontrols/events/ev-...`` renders with ``event_sources`` (a list of
    dicts with source_id, url, title, outlet, attribution, host_kind, published_on, stance,
    archive_url) and the rest. The page credits each source by its ``attribution``, so a copy
    is shown as "copy on HOST of ORIGINAL's text", never as the outlet it copies.
    """
    if view_name != "row" or database != DATABASE or table != "events" or request is None:
        return {}

    async def linked_records():
        event_id = urlsafe_components(request.url_vars["pks"])[0]
        db = datasette.get_database(database)
        params = {"event_id": event_id}
        credit = CREDIT if "attribution" in await db.table_columns("sources") else NO_CREDIT
        event = (await db.execute("SELECT * FROM events WHERE event_id = :event_id", params)).first()
        labels = {}
        for fk in await db.foreign_keys_for_table("events"):
            # Coded fields point at vocabulary_<name> lookups: show each code's label beside it.
            if event is not None and fk["other_table"].startswith("vocabulary_") and event[fk["column"]] is not None:
                found = (await db.execute(f"SELECT label FROM [{fk['other_table']}] WHERE code = :code", {"code": event[fk["column"]]})).first()
                if found:
                    labels[fk["column"]] = found["label"]
        figures = [dict(r) for r in (await db.execute(FIGURES.format(credit=credit), params)).rows]
        for figure in figures:
            figure["display_value"] = display_number(figure["value"])
        return {
            "event_labels": labels,
            "event_sources": [dict(r) for r in (await db.execute(SOURCES.format(credit=credit), params)).rows],
            "event_figures": figures,
            "event_actors": [dict(r) for r in (await db.execute(ACTORS, params)).rows],
            "event_measures": [dict(r) for r in (await db.execute(MEASURES, params)).rows],
        }

    return linked_records
