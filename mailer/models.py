"""Every model, imported in one place so metadata (and Alembic) sees all tables."""

from mailer.addresses.models import Address, AddressEvent
from mailer.audit.models import AuditEntry
from mailer.auth.api_tokens import ApiToken
from mailer.auth.login_sessions import LoginSession
from mailer.auth.models import User
from mailer.batches.models import Batch, BatchFile, Campaign, MailPiece
from mailer.churn.models import ChurnRun
from mailer.customers.models import Consent, Customer, CustomerNote, ErasedNumber
from mailer.dedupe.models import CustomerMerge, DismissedPair
from mailer.orders.models import Order
from returns.models import MailReturn

__all__ = [
    "Address",
    "AddressEvent",
    "ApiToken",
    "AuditEntry",
    "Batch",
    "BatchFile",
    "Campaign",
    "ChurnRun",
    "Consent",
    "Customer",
    "CustomerMerge",
    "CustomerNote",
    "DismissedPair",
    "ErasedNumber",
    "LoginSession",
    "MailPiece",
    "MailReturn",
    "Order",
    "User",
]
