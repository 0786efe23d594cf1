"""secret tokens: a new purpose, "export" (one-time download links for a resident's data)

Revision ID: 7b2e4d1a0c5f
Revises: 6a1f0c2d9b3e
Create Date: 2026-11-22 21:25:00

"""
from alembic import op


revision = '7b2e4d1a0c5f'
down_revision = '6a1f0c2d9b3e'
branch_labels = None
depends_on = None

OLD = "purpose IN ('password_reset', 'api', 'activation', 'tie_invite')"
NEW = "purpose IN ('password_reset', 'api', 'activation', 'tie_invite', 'export')"


def _replace_check(condition: str) -> None:
    with op.batch_alter_table('secret_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_secret_tokens_purpose_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_secret_tokens_purpose_known'), condition)


def upgrade():
    _replace_check(NEW)


def downgrade():
    op.execute("DELETE FROM secret_tokens WHERE purpose = 'export'")
    _replace_check(OLD)
