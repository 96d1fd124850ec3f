"""PostgreSQL's two roles: the owner of the tables, which migrations run as
(MIGRATION_DATABASE_URL), and the runtime role the app and the worker run as
(DATABASE_URL), granted here what they need and no more.

The runtime role reads and writes every table but may only add to and read
the audit trail: it cannot UPDATE, DELETE or TRUNCATE its rows, nor lift the
triggers that refuse those (only a table's owner may), nor write the schema's
version. Tables later migrations create are granted it by default privileges.
"""

from sqlalchemy import Connection, text

RUNTIME_GRANTS = (
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
    " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
    " GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_events FROM {role}",
    "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}",
)


class RoleRefused(Exception):
    """The role cannot be the runtime role (the message says why)."""


def grant_runtime(connection: Connection, role: str) -> None:
    """Grant `role` the runtime role's privileges, as the tables' owner
    (`connection`'s role); the caller commits. Safe to run again."""
    if connection.dialect.name != "postgresql":
        raise RoleRefused("Only PostgreSQL has roles: SQLite needs no grants.")
    found = connection.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        raise RoleRefused(f"There is no role {role!r}: CREATE ROLE it first.")
    owner = connection.scalar(
        text(
            "SELECT tableowner FROM pg_tables"
            " WHERE schemaname = 'public' AND tablename = 'audit_events'"
        )
    )
    if owner is None:
        raise RoleRefused("There are no tables yet: run `flask db upgrade` first.")
    # a superuser, the owner or a member of it could lift the triggers
    if found.rolsuper or connection.scalar(
        text("SELECT pg_has_role(:role, :owner, 'USAGE')"),
        {"role": role, "owner": owner},
    ):
        raise RoleRefused(
            f"{role!r} is a superuser, or owns the tables ({owner!r}) or acts as "
            "their owner: the runtime role must be a role of its own."
        )
    quoted = connection.dialect.identifier_preparer.quote(role)
    for statement in RUNTIME_GRANTS:
        connection.execute(text(statement.format(role=quoted)))
