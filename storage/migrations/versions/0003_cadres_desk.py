"""The cadres' desk: staff, one-time codes, chat bindings, bans, audit, ratings, corrections,
pending input; tickets gain a version, a handler, and counts for answers and 不满意.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:46:28.753049
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)

    op.create_table(
        "bans",
        sa.Column("telegram_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("by_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("telegram_id", name=op.f("pk_bans")),
    )
    op.create_table(
        "kept_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_messages")),
    )
    with op.batch_alter_table("kept_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kept_messages_telegram_id"), ["telegram_id"], unique=False
        )

    op.create_table(
        "chat_bindings",
        sa.Column("place_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_chat_bindings_place_id_places")
        ),
        sa.PrimaryKeyConstraint("place_id", "purpose", name=op.f("pk_chat_bindings")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_chat_bindings_chat_id")),
    )
    op.create_table(
        "one_time_codes",
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("place_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_one_time_codes_place_id_places")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_one_time_codes")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("place_id", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["place_id"], ["places.id"], name=op.f("fk_staff_place_id_places")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_staff_telegram_id")),
    )
    op.create_table(
        "category_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("old_category", sa.String(length=64), nullable=False),
        sa.Column("new_category", sa.String(length=64), nullable=False),
        sa.Column("by_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_category_corrections_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_corrections")),
    )
    op.create_table(
        "pending_inputs",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_pending_inputs_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("chat_id", "telegram_id", name=op.f("pk_pending_inputs")),
    )
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Integer(), nullable=False),
        sa.Column("resident_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("rating", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ratings_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint(
            "ticket_id", "answer", "resident_telegram_id", name=op.f("uq_ratings_ticket_id")
        ),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratings_ticket_id"), ["ticket_id"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_chat_sent", ["chat_id", "sent_message_id"], unique=False)

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("handler_telegram_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("handler_name", sa.String(length=256), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("unsatisfied_here", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("answers", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("anonymous", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("anonymous")
        batch_op.drop_column("answers")
        batch_op.drop_column("unsatisfied_here")
        batch_op.drop_column("handler_name")
        batch_op.drop_column("handler_telegram_id")
        batch_op.drop_column("version")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_chat_sent")

    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratings_ticket_id"))

    op.drop_table("ratings")
    op.drop_table("pending_inputs")
    op.drop_table("category_corrections")
    op.drop_table("staff")
    op.drop_table("one_time_codes")
    op.drop_table("chat_bindings")
    with op.batch_alter_table("kept_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kept_messages_telegram_id"))

    op.drop_table("kept_messages")
    op.drop_table("bans")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))

    op.drop_table("audit_events")
