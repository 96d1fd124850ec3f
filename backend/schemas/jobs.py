"""Export jobs on the wire: asking for one, and its state for a progress bar."""

from marshmallow import Schema, fields, validate

from backend.schemas.common import Day, ReportRangeQuery, record_id_query


class ExportJobInSchema(ReportRangeQuery):
    start = Day(data_key="from", required=True)
    end = Day(data_key="to", required=True)
    therapist_id = record_id_query()
    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(["csv", "contract", "json"]),
        metadata={
            "description": "csv (for people), contract (the contract's columns) "
            "or json (the JSON report's array)."
        },
    )


class ExportJobSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "csv or json"})
    params = fields.Dict(
        required=True, metadata={"description": "from, to, therapist_id, contract"}
    )
    state = fields.String(
        required=True,
        metadata={"description": "queued, running, done (file ready) or failed"},
    )
    progress = fields.Float(required=True, metadata={"description": "0 to 1"})
    rows = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)
    file_url = fields.String(
        allow_none=True, metadata={"description": "Set once the file is ready."}
    )
    mail = fields.Boolean(
        metadata={"description": "Whether an email will say when it is ready."}
    )
