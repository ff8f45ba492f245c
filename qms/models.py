"""Import every domain's models, so that Base.metadata is whole (Alembic reads it)."""

from qms.accounts.models import ApiToken, User
from qms.actions.models import CorrectiveAction
from qms.audit.models import AuditChainHead, AuditEvent
from qms.db import Base
from qms.deviations.models import Deviation, deviation_action
from qms.numbering import NumberSequence
from qms.programmes.models import Cohort, Programme
from qms.signatures.models import Signature

__all__ = [
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "Cohort",
    "CorrectiveAction",
    "Deviation",
    "NumberSequence",
    "Programme",
    "Signature",
    "User",
    "deviation_action",
]
