"""Import every domain's models, so that Base.metadata is whole (Alembic reads it)."""

from qms.accounts.models import ApiToken, User
from qms.audit.models import AuditChainHead, AuditEvent
from qms.db import Base
from qms.programmes.models import Cohort, Programme

__all__ = ["ApiToken", "AuditChainHead", "AuditEvent", "Base", "Cohort", "Programme", "User"]
