"""report_pairs: one covering index for the matrix reads (bench B5)

Revision ID: 7c1e5b0d2a94
Revises: 4d92ba9711a3
Create Date: 2026-11-29 13:20:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "7c1e5b0d2a94"
down_revision = "4d92ba9711a3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report_pairs", schema=None) as batch_op:
        batch_op.drop_index("ix_report_pairs_basis_year")
        batch_op.create_index(
            "ix_report_pairs_reads",
            ["basis", "instrument_id", "year"],
            unique=False,
            postgresql_include=["route", "cycle_id", "country_a", "country_b", "teams", "score"],
        )


def downgrade():
    with op.batch_alter_table("report_pairs", schema=None) as batch_op:
        batch_op.drop_index("ix_report_pairs_reads")
        batch_op.create_index("ix_report_pairs_basis_year", ["basis", "year", "instrument_id"], unique=False)
