"""recordings: voice recordings converted once (OGG/Opus and MP3), named by content versions by hash;
contacts.voice ("voice on": answers with a recording come with the voice note)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'recordings',
        sa.Column('sha256', sa.String(64), primary_key=True),
        sa.Column('source_sha256', sa.String(64), nullable=False),
        sa.Column('ogg', sa.LargeBinary(), nullable=False),
        sa.Column('mp3', sa.LargeBinary(), nullable=False),
        sa.Column('milliseconds', sa.Integer(), nullable=False),
        sa.Column('source_format', sa.String(40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_recordings_source', 'recordings', ['source_sha256'])
    with op.batch_alter_table('contacts') as batch:
        batch.add_column(sa.Column('voice', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('contacts') as batch:
        batch.drop_column('voice')
    op.drop_index('ix_recordings_source', 'recordings')
    op.drop_table('recordings')
