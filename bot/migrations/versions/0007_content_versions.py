"""content_versions, content_images, users.languages: content lives in the database (reviews in reviews.yaml);
messages.missed for the unanswered page

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 05:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'content_versions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('state', sa.String(12), nullable=False),
        sa.Column('files', sa.Text(), nullable=False),
        sa.Column('images', sa.Text(), nullable=False),
        sa.Column('based_on', sa.Integer(), nullable=True),
        sa.Column('revision', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('note', sa.String(300), nullable=True),
        sa.Column('created_by', sa.String(80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_by', sa.String(80), nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_content_versions_state', 'content_versions', ['state'])
    op.create_table(
        'content_images',
        sa.Column('sha256', sa.String(64), primary_key=True),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('languages', sa.String(60), nullable=False, server_default=''))
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('missed', sa.String(16), nullable=True))
    op.create_index('ix_messages_missed', 'messages', ['missed', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_messages_missed', 'messages')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('missed')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('languages')
    op.drop_table('content_images')
    op.drop_index('ix_content_versions_state', 'content_versions')
    op.drop_table('content_versions')
