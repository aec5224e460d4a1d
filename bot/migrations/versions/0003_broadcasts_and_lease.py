"""broadcasts, broadcast lease, outbound broadcast id and language

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 21:05:51
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'broadcast_lease',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('holder', sa.String(length=40), nullable=True),
        sa.Column('until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(sa.table('broadcast_lease', sa.column('id', sa.Integer)), [{'id': 1}])
    op.create_table(
        'broadcasts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('texts', sa.Text(), nullable=False),
        sa.Column('fallback', sa.String(length=12), nullable=True),
        sa.Column('languages', sa.String(length=100), nullable=False),
        sa.Column('channels', sa.String(length=60), nullable=False),
        sa.Column('areas', sa.Text(), nullable=False),
        sa.Column('topic', sa.String(length=40), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.Column('approved_by', sa.String(length=80), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cursor', sa.Integer(), nullable=False),
        sa.Column('selection_done', sa.Boolean(), nullable=False),
        sa.Column('recipients', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.create_index('ix_broadcasts_status', ['status'], unique=False)
    with op.batch_alter_table('outbound', schema=None) as batch_op:
        batch_op.add_column(sa.Column('broadcast_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=12), nullable=True))
        batch_op.create_index('ix_outbound_broadcast', ['broadcast_id', 'status'], unique=False)
        batch_op.create_unique_constraint('uq_outbound_broadcast_contact', ['broadcast_id', 'contact_id'])
        batch_op.create_foreign_key('fk_outbound_broadcast', 'broadcasts', ['broadcast_id'], ['id'],
                                    ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('outbound', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbound_broadcast', type_='foreignkey')
        batch_op.drop_constraint('uq_outbound_broadcast_contact', type_='unique')
        batch_op.drop_index('ix_outbound_broadcast')
        batch_op.drop_column('language')
        batch_op.drop_column('broadcast_id')
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_index('ix_broadcasts_status')
    op.drop_table('broadcasts')
    op.drop_table('broadcast_lease')
