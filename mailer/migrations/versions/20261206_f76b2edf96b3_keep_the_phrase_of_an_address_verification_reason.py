"""Keep the phrase of an address's verification reason

Revision ID: f76b2edf96b3
Revises: c4e7a19b2d60
Create Date: 2026-12-06 10:00:00.000000

"""
from typing import Sequence, Union  # noqa: UP035

from alembic import op
import sqlalchemy as sa

import mailer.db


# revision identifiers, used by Alembic.
revision: str = 'f76b2edf96b3'
down_revision: Union[str, Sequence[str], None] = 'c4e7a19b2d60'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verification_phrase', sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_column('verification_phrase')
