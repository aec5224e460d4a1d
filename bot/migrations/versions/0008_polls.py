"""polls, poll_recipients, poll_answers: ask the people who opted in (question 1 rides a broadcast)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 07:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'polls',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('title', sa.String(120), nullable=False),
        sa.Column('questions', sa.Text(), nullable=False),
        sa.Column('window_hours', sa.Integer(), nullable=False, server_default='72'),
        sa.Column('status', sa.String(20), nullable=False, server_default='draft'),
        sa.Column('broadcast_id', sa.Integer(), sa.ForeignKey('broadcasts.id', ondelete='SET NULL'), nullable=True),
        sa.Column('created_by', sa.String(80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revision', sa.Integer(), nullable=False, server_default='0'),
    )
    op.create_index('ix_polls_status', 'polls', ['status'])
    op.create_table(
        'poll_recipients',
        sa.Column('poll_id', sa.Integer(), sa.ForeignKey('polls.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('contact_id', sa.Integer(), sa.ForeignKey('contacts.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('waiting', sa.Integer(), nullable=True),
        sa.Column('asked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reasked', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('held', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        'poll_answers',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('poll_id', sa.Integer(), sa.ForeignKey('polls.id', ondelete='CASCADE'), nullable=False),
        sa.Column('question', sa.Integer(), nullable=False),
        sa.Column('contact_id', sa.Integer(), sa.ForeignKey('contacts.id', ondelete='SET NULL'), nullable=True),
        sa.Column('option', sa.Integer(), nullable=True),
        sa.Column('text_enc', sa.Text(), nullable=True),
        sa.Column('skipped', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('language', sa.String(12), nullable=True),
        sa.Column('channel', sa.String(16), nullable=False),
        sa.Column('area', sa.String(64), nullable=True),
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('cases.id', ondelete='SET NULL'), nullable=True),
        sa.Column('changes', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('poll_id', 'question', 'contact_id', name='uq_poll_answers_one'),
    )
    op.create_index('ix_poll_answers_poll', 'poll_answers', ['poll_id', 'question'])
    op.create_index('ix_poll_answers_contact', 'poll_answers', ['contact_id'])
    op.create_index('ix_poll_answers_created', 'poll_answers', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_poll_answers_created', 'poll_answers')
    op.drop_index('ix_poll_answers_contact', 'poll_answers')
    op.drop_index('ix_poll_answers_poll', 'poll_answers')
    op.drop_table('poll_answers')
    op.drop_table('poll_recipients')
    op.drop_index('ix_polls_status', 'polls')
    op.drop_table('polls')
