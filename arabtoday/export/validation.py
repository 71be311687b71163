"""Records checked against the JSON Schema, fast enough for the crawl's hot path.

``validate(record) -> list[str]`` returns the record's problems, empty when it
is valid. Each problem starts with the field it is about (``"word_count: ..."``;
:func:`problem_field` reads it back), so that a pipeline stage can drop the
record under ``arabtoday/articles/dropped/invalid/<field>`` or flag the field.

Why two paths: the whole-record validator, compiled once by fastjsonschema
into plain Python, answers "valid" in a few microseconds, and almost every
record is valid. Only when it says no are the fields checked one by one (each
with its own compiled validator, from the same schema) to name every field at
fault, not just the first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import fastjsonschema

from arabtoday.schema import EXPORT_FIELDS, FIELDS, LIVE, STATUSES, json_schema, json_schema_for, required_for

SHORT_VALUE = 60  # characters of an offending value quoted in a problem (a body can be 100 KB)
_Validator = Callable[[Any], Any]

# Formats are documentation only: the patterns already pin the timestamp shape.
_RECORD: _Validator = fastjsonschema.compile(json_schema(), use_formats=False)
# one flat validator per status: the status is read first, so the ``allOf`` branches need not be tried
_BY_STATUS: dict[str, _Validator] = {status: fastjsonschema.compile(json_schema_for(status), use_formats=False)
                                     for status in STATUSES}
_FIELD: dict[str, _Validator] = {f.name: fastjsonschema.compile(f.json_schema(), use_formats=False) for f in FIELDS}
_KNOWN = frozenset(EXPORT_FIELDS)
_REQUIRED = {status: required_for(status) for status in STATUSES}  # a line's fields, by its status


def validate(record: Mapping[str, Any]) -> list[str]:
    """Problems of one line (a dict of ``EXPORT_FIELDS``: all of them on an article's record, those its
    ``status`` requires on a line of history); empty when valid."""
    if not isinstance(record, Mapping):
        return [f"record: expected an object, got {type(record).__name__}"]
    check = _BY_STATUS.get(record.get("status", LIVE), _RECORD)  # no status, or an unknown one: the full rules
    try:
        check(record)
    except fastjsonschema.JsonSchemaValueException:
        return _problems(record)
    return []


def _problems(record: Mapping[str, Any]) -> list[str]:
    required = _REQUIRED.get(record.get("status", LIVE), _REQUIRED[LIVE])
    problems = [f"{name}: missing" for name in required if name not in record]
    if record.get("status") in _REQUIRED and record.get("status") != LIVE:
        problems += [f"{name}: must be set on a {record['status']} line" for name in required
                     if name in record and record[name] is None]
    problems += [f"{name}: not a field of the record" for name in record if name not in _KNOWN]
    for name, check in _FIELD.items():
        if name not in record:
            continue
        try:
            check(record[name])
        except fastjsonschema.JsonSchemaValueException as exc:
            problems.append(_describe(name, exc))
    return problems


def _describe(name: str, exc: fastjsonschema.JsonSchemaValueException) -> str:
    """``tags[1]: must be string (got 1)``: where, the rule broken, and the value (shortened).

    fastjsonschema names the place ``data``, ``data[1]``: the field's name replaces ``data``.
    """
    where = exc.name or "data"
    rule = exc.message.removeprefix(where).strip()
    return f"{name}{where.removeprefix('data')}: {rule} (got {_short(exc.value)})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHORT_VALUE else text[:SHORT_VALUE] + "…"


def problem_field(problem: str) -> str:
    """The field a problem names (``"tags[1]: must be ..."`` -> ``tags``): the stat's ``<field>``."""
    return problem.split(":", 1)[0].split("[", 1)[0].split(".", 1)[0]
