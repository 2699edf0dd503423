"""Scheduling: experiments (a booking of kind experiment → its award and local contact) and
award_schedules (staff's maximum number of sessions per award, for the solver).

Revision ID: 899a084cef10
Revises: 26f8d8ac6c21
Create Date: 2026-11-29 08:07:32.473005

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '899a084cef10'
down_revision = '26f8d8ac6c21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('award_schedules',
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('max_sessions', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('max_sessions >= 1', name=op.f('ck_award_schedules_max_sessions_positive')),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_award_schedules_award_id_awards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('award_id', name=op.f('pk_award_schedules'))
    )
    op.create_table('experiments',
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('local_contact_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_experiments_award_id_awards'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_experiments_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['local_contact_id'], ['users.id'], name=op.f('fk_experiments_local_contact_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('booking_id', name=op.f('pk_experiments'))
    )
    with op.batch_alter_table('experiments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experiments_award_id'), ['award_id'], unique=False)



def downgrade():
    with op.batch_alter_table('experiments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experiments_award_id'))

    op.drop_table('experiments')
    op.drop_table('award_schedules')
