"""reveal order on the round

The projector shows the round the chair showed last. That order was read back from the audit
log; it now lives on the round: `reveal_seq`, the number of the chair's latest "show" among all
rounds. Existing meetings get it from their audit log.

Revision ID: 0003
Revises: 0002
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rounds') as batch:
        batch.add_column(sa.Column('reveal_seq', sa.Integer(), nullable=True))
    conn = op.get_bind()
    latest: dict[str, int] = {}
    rows = conn.execute(sa.text("SELECT id, detail FROM audit_log WHERE action = 'round_revealed' ORDER BY id"))
    for seq, (_id, detail) in enumerate(rows, start=1):
        latest[json.loads(detail)["round"]] = seq
    for round_id, seq in latest.items():
        conn.execute(sa.text("UPDATE rounds SET reveal_seq = :seq WHERE id = :id"), {"seq": seq, "id": round_id})


def downgrade() -> None:
    with op.batch_alter_table('rounds') as batch:
        batch.drop_column('reveal_seq')
