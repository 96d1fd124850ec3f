"""The audit trail's hash chain: how a row is stored at the chain's end, and
how the chain is checked.

Each row carries `prev_hash`, the hash of the row before it (by id), and
`hash`, SHA-256 over that and the row's own content. A row changed, removed or
slipped in afterwards, even by whoever owns the table, breaks a link that
`verify` finds. The hash is computed by the INSERT itself from the last row's
hash, so the read of the chain's end and the new row are one statement.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import String, bindparam, func, insert, select
from sqlalchemy.orm import Session

from backend.models import AuditEvent
from backend.models.base import DIALECT_INSERT, engine_function

# What a row's hash covers. Never change it: the stored hashes rest on it.
CONTENT = (
    "at",
    "clinic_id",
    "actor_id",
    "actor_email",
    "action",
    "target_type",
    "target_id",
    "ip",
    "status",
    "detail",
    "once_key",
)
# PostgreSQL advisory lock on the chain's end ("audit" in ASCII): writers
# queue there until the holder's transaction ends
LOCK_KEY = 0x6175646974

# SHA-256 of UTF-8 text, in hex, in each engine's words (SQLite's is the
# function backend/sqlite.py adds to every connection)
sha256_hex = engine_function(
    "sha256_hex",
    String(64),
    postgresql="encode(sha256(convert_to({}, 'UTF8')), 'hex')",
    sqlite="homeward_sha256({})",
)
_LAST_HASH = (
    select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1).scalar_subquery()
)
_LINKED = {
    "prev_hash": _LAST_HASH,
    "hash": sha256_hex(
        func.coalesce(_LAST_HASH, "") + bindparam("content", type_=String)
    ),
}
_APPEND = insert(AuditEvent.__table__).values(_LINKED)  # built once: many requests
# a row recorded once: a second one with the same key is dropped
_APPEND_ONCE = {
    name: dialect_insert(AuditEvent.__table__)
    .values(_LINKED)
    .on_conflict_do_nothing(index_elements=["once_key"])
    for name, dialect_insert in DIALECT_INSERT.items()
}


def append(session: Session, values: dict) -> None:
    """Add the row `values` (every CONTENT column) at the chain's end, in the
    session's transaction (the caller commits). A row whose `once_key` is
    stored already is dropped, and the chain stays as it was."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # SQLite's one writer at a time holds already; here a second writer
        # reading the same last hash would fork the chain
        session.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
    statement = _APPEND if values["once_key"] is None else _APPEND_ONCE[dialect]
    session.execute(statement, {**values, "content": content(values)})


def content(row: Mapping) -> str:
    """The row's content as its hash covers it: CONTENT as JSON, keys sorted,
    ASCII only (so SQL and Python hash the same bytes)."""
    values = {name: row[name] for name in CONTENT}
    values["at"] = values["at"].astimezone(UTC).isoformat()
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def link_hash(prev_hash: str | None, row_content: str) -> str:
    """The hash a row with this content after `prev_hash` must carry."""
    return hashlib.sha256(((prev_hash or "") + row_content).encode()).hexdigest()


@dataclass
class Verdict:
    """What `verify` found: rows checked, the last hash, the first broken link."""

    rows: int
    last_hash: str | None
    broken_id: int | None = None
    problem: str | None = None


def verify(rows: Iterable[Mapping]) -> Verdict:
    """Walk `rows` (every column of audit_events, in id order) and stop at the
    first link that does not hold."""
    count, previous = 0, None
    for row in rows:
        problem = _problem(row, previous)
        if problem is not None:
            return Verdict(count, previous, row["id"], problem)
        count, previous = count + 1, row["hash"]
    return Verdict(count, previous)


def _problem(row: Mapping, previous: str | None) -> str | None:
    if row["hash"] is None:
        return "it has no hash: it was added outside the audit trail's writer"
    if row["prev_hash"] != previous:
        return (
            f"it follows a row with hash {row['prev_hash'] or '(none)'}, but the "
            f"row before it has {previous or '(none: it is the first)'}: a row "
            "before it was removed, added or changed"
        )
    if link_hash(previous, content(row)) != row["hash"]:
        return "its content does not match its hash: it was changed after writing"
    return None
