"""users: TOTP second factor (encrypted secret, enabled at, last time-step, failures) and
email_confirmed_at; secret tokens: new purposes "recovery" (second-factor recovery codes) and
"confirm_email" (email confirmation links)

Revision ID: 8c3f5e2b1d70
Revises: 7b2e4d1a0c5f
Create Date: 2026-11-22 23:10:00

"""
import sqlalchemy as sa
from alembic import op


revision = '8c3f5e2b1d70'
down_revision = '7b2e4d1a0c5f'
branch_labels = None
depends_on = None

OLD = "purpose IN ('password_reset', 'api', 'activation', 'tie_invite', 'export')"
NEW = (
    "purpose IN ('password_reset', 'api', 'activation', 'tie_invite', 'export', 'recovery', "
    "'confirm_email')"
)


def _replace_check(condition: str) -> None:
    with op.batch_alter_table('secret_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_secret_tokens_purpose_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_secret_tokens_purpose_known'), condition)


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_secret_encrypted', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('totp_failed_attempts', sa.Integer(), server_default='0', nullable=False)
        )
    # Accounts from before email confirmation existed count as confirmed when they were made.
    op.execute("UPDATE users SET email_confirmed_at = created_at")
    _replace_check(NEW)


def downgrade():
    op.execute("DELETE FROM secret_tokens WHERE purpose IN ('recovery', 'confirm_email')")
    _replace_check(OLD)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_failed_attempts')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret_encrypted')
        batch_op.drop_column('email_confirmed_at')
