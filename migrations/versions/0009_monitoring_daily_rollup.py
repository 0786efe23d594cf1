"""monitoring: the daily rollup the municipal monitoring answers from (monitoring_daily), its
sums per week and month (monitoring_periods) and its refresh state (monitoring_rollup_state);
filled by the first refresh

Revision ID: 9d4a6c1e3f82
Revises: 8c3f5e2b1d70
Create Date: 2026-11-22 23:30:00

"""
import sqlalchemy as sa
from alembic import op

import mutualaid.models.base


revision = '9d4a6c1e3f82'
down_revision = '8c3f5e2b1d70'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'monitoring_daily',
        sa.Column('measure', sa.String(length=16), nullable=False),
        sa.Column('key_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('value', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('measure', 'key_id', 'day', name=op.f('pk_monitoring_daily')),
    )
    with op.batch_alter_table('monitoring_daily', schema=None) as batch_op:
        batch_op.create_index('ix_monitoring_daily_measure_day', ['measure', 'day'], unique=False)
    op.create_table(
        'monitoring_periods',
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('start', sa.Date(), nullable=False),
        sa.Column('measure', sa.String(length=16), nullable=False),
        sa.Column('neighbourhood_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('category_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            'kind', 'start', 'measure', 'neighbourhood_id', 'category_id',
            name=op.f('pk_monitoring_periods'),
        ),
    )
    op.create_table(
        'monitoring_rollup_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('watermark', mutualaid.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('refreshed_at', mutualaid.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('rebuilt_at', mutualaid.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_rollup_state')),
    )


def downgrade():
    op.drop_table('monitoring_rollup_state')
    op.drop_table('monitoring_periods')
    with op.batch_alter_table('monitoring_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_monitoring_daily_measure_day')
    op.drop_table('monitoring_daily')
