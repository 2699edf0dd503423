"""Experiment lifecycle: publication time, iCal sequence, delivered and lost shifts.

Revision ID: 81ea354a8290
Revises: 899a084cef10
Create Date: 2026-11-29 09:28:09.544416

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '81ea354a8290'
down_revision = '899a084cef10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('experiments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()))
        batch_op.add_column(sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('delivered_shifts', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lost_shifts', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lost_reason', sa.Enum('machine_fault', 'instrument_fault', 'user_no_show', 'other', name='losttimereason', native_enum=False, create_constraint=True, length=32), nullable=True))
        batch_op.add_column(sa.Column('lost_note', sa.Text(), nullable=False, server_default=''))
        batch_op.create_check_constraint('sequence_not_negative', 'sequence >= 0')
        batch_op.create_check_constraint('delivered_not_negative', 'delivered_shifts IS NULL OR delivered_shifts >= 0')
        batch_op.create_check_constraint('lost_not_negative', 'lost_shifts IS NULL OR lost_shifts >= 0')
    with op.batch_alter_table('experiments', schema=None) as batch_op:
        batch_op.alter_column('updated_at', server_default=None)
        batch_op.alter_column('sequence', server_default=None)
        batch_op.alter_column('lost_note', server_default=None)


def downgrade():
    with op.batch_alter_table('experiments', schema=None) as batch_op:
        batch_op.drop_constraint('lost_not_negative', type_='check')
        batch_op.drop_constraint('delivered_not_negative', type_='check')
        batch_op.drop_constraint('sequence_not_negative', type_='check')
        batch_op.drop_constraint('losttimereason', type_='check')
        batch_op.drop_column('lost_note')
        batch_op.drop_column('lost_reason')
        batch_op.drop_column('lost_shifts')
        batch_op.drop_column('delivered_shifts')
        batch_op.drop_column('sequence')
        batch_op.drop_column('published_at')
        batch_op.drop_column('updated_at')
