"""store the fitted duplicate model with its run, when new customers were last compared, and index pairs by customer

Revision ID: c4e7a19b2d60
Revises: 3b9d0c6e5f21
Create Date: 2026-12-06 08:40:00.000000

"""
from typing import Sequence, Union  # noqa: UP035

from alembic import op
import sqlalchemy as sa

import mailer.db


# revision identifiers, used by Alembic.
revision: str = 'c4e7a19b2d60'
down_revision: Union[str, Sequence[str], None] = '3b9d0c6e5f21'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('dedupe_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('refreshed_at', mailer.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('dedupe_candidate_pairs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dedupe_candidate_pairs_first_id'), ['first_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dedupe_candidate_pairs_second_id'), ['second_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('dedupe_candidate_pairs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dedupe_candidate_pairs_second_id'))
        batch_op.drop_index(batch_op.f('ix_dedupe_candidate_pairs_first_id'))
    with op.batch_alter_table('dedupe_runs', schema=None) as batch_op:
        batch_op.drop_column('refreshed_at')
        batch_op.drop_column('model')
