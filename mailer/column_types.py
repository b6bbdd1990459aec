"""Column types every model shares, so an id or a timestamp is declared the same way everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from sqlalchemy.orm import mapped_column

from mailer.db import utcnow

# A row's id: an INTEGER primary key (see mailer.db.MAX_ROW_ID for what that allows).
IntPK = Annotated[int, mapped_column(primary_key=True)]
# The moment the row was written (created, merged, recorded), timezone-aware in UTC.
CreatedAt = Annotated[datetime, mapped_column(default=utcnow)]
# The moment the row was last changed.
UpdatedAt = Annotated[datetime, mapped_column(default=utcnow, onupdate=utcnow)]
