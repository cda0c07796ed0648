"""pairing offers expire; server-side console sessions

A pairing offer is good for a limited time (`expires_at`; an offer made before this migration
has none and is refused). The chair's and the desk's sign-in sessions live in `web_sessions`
(the cookie carries only a random id), so a sign-out ends a session for good.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pairing_offers') as batch:
        batch.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
    op.create_table(
        'web_sessions',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id_hash'),
    )


def downgrade() -> None:
    op.drop_table('web_sessions')
    with op.batch_alter_table('pairing_offers') as batch:
        batch.drop_column('expires_at')
