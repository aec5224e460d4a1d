"""users.totp_last_step: a second-factor code works once; admins without one set it up at their next sign-in

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    # Admins now need a second factor: end the sessions of those without one, so that their next
    # sign-in takes them through setting it up (session_epoch is part of the session stamp).
    op.execute("UPDATE users SET session_epoch = session_epoch + 1 "
               "WHERE role = 'admin' AND totp_secret_enc IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('totp_last_step')
