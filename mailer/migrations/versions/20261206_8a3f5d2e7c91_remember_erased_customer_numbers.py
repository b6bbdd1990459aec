"""remember erased customer numbers

Only a one-way hash of each number, linked to nothing: a later import of an erased customer's row is
refused.

Revision ID: 8a3f5d2e7c91
Revises: 3c1f9a7d5e20
Create Date: 2026-12-06 07:55:00.000000

"""
from typing import Sequence, Union  # noqa: UP035

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '8a3f5d2e7c91'
down_revision: Union[str, Sequence[str], None] = '3c1f9a7d5e20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('erased_customer_numbers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erased_customer_numbers')),
    sa.UniqueConstraint('digest', name=op.f('uq_erased_customer_numbers_digest'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('erased_customer_numbers')
