"""the audit log is a chain; kiosks report their receipts against the published box

`audit_log` gets `prev_hash` and `entry_hash` (unique: no fork), `meeting` the chain's head;
existing entries are chained in the order they were written. `kiosks.box_report` keeps each
kiosk's last check of its receipts against the published boxes.

Revision ID: 0006
Revises: 0005
"""
import json

import sqlalchemy as sa
from alembic import op

from keys import audit as chain

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kiosks') as batch:
        batch.add_column(sa.Column('box_report', sa.Text(), nullable=True))
    with op.batch_alter_table('meeting') as batch:
        batch.add_column(sa.Column('audit_head', sa.String(length=64), nullable=True))
    with op.batch_alter_table('audit_log') as batch:
        batch.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('entry_hash', sa.String(length=64), nullable=True))

    conn = op.get_bind()
    meeting = sa.table('meeting', sa.column('id', sa.String), sa.column('audit_head', sa.String))
    log = sa.table('audit_log', sa.column('id', sa.Integer), sa.column('at', sa.DateTime),
                   sa.column('actor', sa.String), sa.column('action', sa.String), sa.column('detail', sa.Text),
                   sa.column('prev_hash', sa.String), sa.column('entry_hash', sa.String))
    meeting_id = conn.execute(sa.select(meeting.c.id)).scalar()
    if meeting_id is not None:
        head = chain.genesis(meeting_id)
        for row in conn.execute(sa.select(log).order_by(log.c.id)).all():
            record = {"at": row.at.isoformat(timespec="microseconds") + "Z", "actor": row.actor,
                      "action": row.action, "detail": json.loads(row.detail)}
            entry = chain.next_entry(head, record)
            conn.execute(sa.update(log).where(log.c.id == row.id).values(prev_hash=head, entry_hash=entry))
            head = entry
        conn.execute(sa.update(meeting).values(audit_head=head))

    with op.batch_alter_table('meeting') as batch:
        batch.alter_column('audit_head', existing_type=sa.String(length=64), nullable=False)
    with op.batch_alter_table('audit_log') as batch:
        batch.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch.alter_column('entry_hash', existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(batch.f('uq_audit_log_prev_hash'), ['prev_hash'])
        batch.create_unique_constraint(batch.f('uq_audit_log_entry_hash'), ['entry_hash'])


def downgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_constraint('uq_audit_log_entry_hash', type_='unique')
        batch.drop_constraint('uq_audit_log_prev_hash', type_='unique')
        batch.drop_column('entry_hash')
        batch.drop_column('prev_hash')
    with op.batch_alter_table('meeting') as batch:
        batch.drop_column('audit_head')
    with op.batch_alter_table('kiosks') as batch:
        batch.drop_column('box_report')
