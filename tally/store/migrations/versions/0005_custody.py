"""the scrutineers hold the keys: k-of-n round keys, spare keys, the imported card list

- `meeting.scrutineers`, `meeting.quorum`: the k-of-n split of every secret round's key;
  `meeting.desk_unlock`: whether the desk may unlock a kiosk (the kiosk makes the card).
- `rounds.share_commitments`: one commitment per scrutineer's share (secret rounds).
- `cards.origin`: `list` (the scrutineers' card list) or `desk` (a desk unlock).
- `spare_keys`, `spare_cards`: round keys made at set-up for rounds added during the meeting,
  and the cards' credentials for them.
- `credential_list`: the fingerprint and size of the scrutineers' card list as imported.

A meeting made by version 0.1 keeps its rounds (no commitments: its secret rounds were wrapped
under one passphrase, which this version no longer takes).

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('meeting') as batch:
        batch.add_column(sa.Column('scrutineers', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('quorum', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('desk_unlock', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    with op.batch_alter_table('rounds') as batch:
        batch.add_column(sa.Column('share_commitments', sa.Text(), nullable=True))
    with op.batch_alter_table('cards') as batch:
        batch.add_column(sa.Column('origin', sa.String(length=8), server_default='list', nullable=False))
    op.create_table(
        'spare_keys',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
        sa.Column('wrapped_private', sa.LargeBinary(), nullable=False),
        sa.Column('share_commitments', sa.Text(), nullable=False),
        sa.Column('assigned', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'spare_cards',
        sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
        sa.Column('spare_id', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.CheckConstraint("status in ('issued','void')", name='spare_card_status'),
        sa.ForeignKeyConstraint(['spare_id'], ['spare_keys.id']),
        sa.PrimaryKeyConstraint('public_key'),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'credential_list',
        sa.Column('meeting_id', sa.String(length=16), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('cards', sa.Integer(), nullable=False),
        sa.Column('meeting_record', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id']),
        sa.PrimaryKeyConstraint('meeting_id'),
    )


def downgrade() -> None:
    op.drop_table('credential_list')
    op.drop_table('spare_cards')
    op.drop_table('spare_keys')
    with op.batch_alter_table('cards') as batch:
        batch.drop_column('origin')
    with op.batch_alter_table('rounds') as batch:
        batch.drop_column('share_commitments')
    with op.batch_alter_table('meeting') as batch:
        batch.drop_column('desk_unlock')
        batch.drop_column('quorum')
        batch.drop_column('scrutineers')
