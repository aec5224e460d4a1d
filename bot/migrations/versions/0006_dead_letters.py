"""dead_letters: inbound messages the worker could not handle (not an outage), kept sealed for a replay

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 01:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dead_letters',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('sealed', sa.Text(), nullable=False),
        sa.Column('error', sa.String(300), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False, server_default='1'),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('dead_letters')
