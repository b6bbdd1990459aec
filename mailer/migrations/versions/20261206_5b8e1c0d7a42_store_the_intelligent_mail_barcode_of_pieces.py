"""store the Intelligent Mail barcode of pieces and the serial counter of each Mailer ID

Revision ID: 5b8e1c0d7a42
Revises: e2fd5ed035a1
Create Date: 2026-12-06 07:10:00.000000

"""
from typing import Sequence, Union  # noqa: UP035

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5b8e1c0d7a42'
down_revision: Union[str, Sequence[str], None] = 'e2fd5ed035a1'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'imb_serial_counters',
        sa.Column('mailer_id', sa.String(length=9), nullable=False),
        sa.Column('next_serial', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('mailer_id', name=op.f('pk_imb_serial_counters')),
    )
    with op.batch_alter_table('mail_pieces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imb_mailer_id', sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column('imb_serial', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('imb_digits', sa.String(length=31), nullable=True))
        batch_op.create_index('ix_mail_pieces_imb', ['imb_mailer_id', 'imb_serial'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('mail_pieces', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_pieces_imb')
        batch_op.drop_column('imb_digits')
        batch_op.drop_column('imb_serial')
        batch_op.drop_column('imb_mailer_id')
    op.drop_table('imb_serial_counters')
