"""Field types and query arguments shared by several resources, with the
bounds every input respects (the API contract's "Limits")."""

from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
MAX_ID = 2**31 - 1  # a database integer; a larger id names nothing


class StrictInt(fields.Integer):
    """An integer that refuses floats, numeric strings and booleans."""

    default_error_messages = {"invalid": _l("Not a valid integer.")}

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


def record_id(**kwargs) -> StrictInt:
    """The id of a stored record (exercise, therapist, ...) in a JSON body."""
    return StrictInt(validate=validate.Range(1, MAX_ID), **kwargs)


def record_id_query(**kwargs) -> fields.Integer:
    """The id of a stored record in a query string (where it is text)."""
    return fields.Integer(validate=validate.Range(1, MAX_ID), **kwargs)


class Day(fields.Date):
    """A calendar day from 2000-01-01 to 2100-12-31."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationError(
                _(
                    "Must be between %(first)s and %(last)s.",
                    first=FIRST_DAY.isoformat(),
                    last=LAST_DAY.isoformat(),
                )
            )
        return day


class Characters(validate.Regexp):
    """Text made only of the characters `pattern` allows, all of it (a full
    match; the pattern is anchored for the JSON Schema in the OpenAPI
    document, which the PWA checks its records against)."""

    def __init__(self, pattern: str, error: str):
        super().__init__(pattern, error=error)

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


# One line: no control characters at all. Several lines: line breaks and tabs too.
ONE_LINE = Characters(
    r"^[^\x00-\x1f\x7f]*$",
    _l("Must be one line, without line breaks, tabs or control characters."),
)
LINES = Characters(
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$", _l("Control characters are not allowed.")
)


def text(
    max_length: int, multiline: bool = False, min_length: int | None = None, **kwargs
) -> fields.String:
    """Free text up to `max_length` characters; one line unless `multiline`;
    never a control character (guards.py refuses them in whole requests too,
    but a sync judges its records one by one)."""
    rules = [validate.Length(min=min_length, max=max_length)]
    rules.append(LINES if multiline else ONE_LINE)
    return fields.String(validate=rules, **kwargs)


def is_key_value(value, kind: type) -> bool:
    """Whether `value`, read from a keyset cursor (`after`), is of `kind` and
    could be stored: an id 1 to MAX_ID, or a line of text a name may be.
    The client wrote the cursor: it is bounded like any other input."""
    if isinstance(value, bool) or not isinstance(value, kind):
        return False
    if isinstance(value, int):
        return 1 <= value <= MAX_ID
    return len(value) <= 200 and ONE_LINE.regex.fullmatch(value) is not None


def name_field(**kwargs) -> fields.String:
    return text(200, min_length=1, **kwargs)


def date_range(max_days: int) -> type[Schema]:
    """`?from=&to=` query arguments: both optional, `from` not after `to`, at
    most `max_days` days apart (the contract: 366 for progress, 731 for
    reports)."""

    class DateRangeQuery(Schema):
        start = Day(data_key="from")
        end = Day(data_key="to")

        @validates_schema
        def _ordered(self, data, **kwargs):
            start, end = data.get("start"), data.get("end")
            if start and not end:  # `to` defaults to about today: a day ahead of UTC
                end = max(start, datetime.now(UTC).date() + timedelta(days=1))
            if start and end and start > end:
                raise ValidationError(_("Must not be after 'to'."), "from")
            if start and end and (end - start).days + 1 > max_days:
                raise ValidationError(
                    _("A range may span at most %(days)s days.", days=max_days),
                    "from",
                )

    DateRangeQuery.__name__ = f"DateRangeQuery{max_days}"
    return DateRangeQuery


DateRangeQuery = date_range(366)  # a year: lists of records, progress
ReportRangeQuery = date_range(731)  # two years: reports, the audit trail
