"""index current addresses by country and verification, for the dashboard's verified share

Revision ID: 3c8e1f4a9b27
Revises: 7d2b9e4f1a36
Create Date: 2026-12-06 14:32:00.000000

"""
from typing import Sequence, Union  # noqa: UP035

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '3c8e1f4a9b27'
down_revision: Union[str, Sequence[str], None] = '7d2b9e4f1a36'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.create_index(
            'ix_addresses_current_country_verification', ['country', 'verification'], unique=False,
            sqlite_where=sa.text('is_current = 1'), postgresql_where=sa.text('is_current'),
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_addresses_current_country_verification',
            sqlite_where=sa.text('is_current = 1'), postgresql_where=sa.text('is_current'),
        )
