"""Field types and query arguments shared by several resources."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema


class StrictInt(fields.Integer):
    """An integer that refuses floats, numeric strings and booleans."""

    default_error_messages = {"invalid": "Not a valid integer."}

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


def text(max_length: int, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


def name_field(**kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=200), **kwargs)


class DateRangeQuery(Schema):
    """`?from=&to=`; both optional, `from` not after `to`."""

    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")

    @validates_schema
    def _ordered(self, data, **kwargs):
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError("Must not be after 'to'.", "from")
        if start and end and (end - start).days > 731:
            raise ValidationError("A range may span at most two years.", "from")
