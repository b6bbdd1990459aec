"""store customers' match keys with the duplicate search and the review order of its pairs, index pairs by second customer and run

Revision ID: 7d2b9e4f1a36
Revises: f76b2edf96b3
Create Date: 2026-12-06 09:32:17.945506

"""
from typing import Sequence, Union  # noqa: UP035

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '7d2b9e4f1a36'
down_revision: Union[str, Sequence[str], None] = 'f76b2edf96b3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('dedupe_customer_keys',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('written_name', sa.Text(), nullable=False),
    sa.Column('given', sa.Text(), nullable=False),
    sa.Column('surname', sa.Text(), nullable=False),
    sa.Column('street', sa.Text(), nullable=False),
    sa.Column('numbers', sa.Text(), nullable=False),
    sa.Column('locality', sa.Text(), nullable=False),
    sa.Column('postal', sa.Text(), nullable=False),
    sa.Column('country', sa.Text(), nullable=False),
    sa.Column('blocks', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_dedupe_customer_keys_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_dedupe_customer_keys'))
    )
    with op.batch_alter_table('dedupe_candidate_pairs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('dedupe_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocking_rules', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('pairs_added', sa.Integer(), nullable=True))
    # Stored pairs keep their order: by group, then as they were stored. A stored run has no
    # match keys yet (blocking_rules stays empty): comparing new customers needs a full search first.
    op.execute("UPDATE dedupe_candidate_pairs SET position = cluster * 4294967296 + id")
    op.execute(
        "UPDATE dedupe_runs SET pairs_added = COALESCE("
        "(SELECT MAX(id) + 1 FROM dedupe_candidate_pairs WHERE run_id = dedupe_runs.id), 0)"
    )
    with op.batch_alter_table('dedupe_candidate_pairs', schema=None) as batch_op:
        batch_op.alter_column('position', existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_index(batch_op.f('ix_dedupe_candidate_pairs_run_id'))
        batch_op.drop_index(batch_op.f('ix_dedupe_candidate_pairs_second_id'))
        batch_op.create_index('ix_dedupe_candidate_pairs_run_position', ['run_id', 'position'], unique=True)
        batch_op.create_index('ix_dedupe_candidate_pairs_second_run_first', ['second_id', 'run_id', 'first_id'], unique=False)
    with op.batch_alter_table('dedupe_runs', schema=None) as batch_op:
        batch_op.alter_column('pairs_added', existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('dedupe_runs', schema=None) as batch_op:
        batch_op.drop_column('pairs_added')
        batch_op.drop_column('blocking_rules')

    with op.batch_alter_table('dedupe_candidate_pairs', schema=None) as batch_op:
        batch_op.drop_index('ix_dedupe_candidate_pairs_second_run_first')
        batch_op.drop_index('ix_dedupe_candidate_pairs_run_position')
        batch_op.create_index(batch_op.f('ix_dedupe_candidate_pairs_second_id'), ['second_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dedupe_candidate_pairs_run_id'), ['run_id'], unique=False)
        batch_op.drop_column('position')

    op.drop_table('dedupe_customer_keys')
