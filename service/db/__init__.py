"""The app database: schema, migrations, the audit chain, the action ledger and proposal storage."""

from service.db import events as _events  # noqa: F401 - registers the event tables on Base.metadata
from service.db import feedback as _feedback  # noqa: F401 - registers the feedback table
from service.db import model_calls as _model_calls  # noqa: F401 - registers the model_calls table
from service.db import worker as _worker  # noqa: F401 - registers the worker tables on Base.metadata
from service.db.audit import GENESIS_HASH, AuditEntry, SqlAuditLog, append_audit, canonical_json
from service.db.audit_verify import VerifyResult, verify_chain
from service.db.engine import make_engine, read_session, write_session
from service.db.journal import SqlApplyJournal
from service.db.migrate import current_revision, head_revision, migrate
from service.db.models import ProposalStatus
from service.db.proposals import (
    DecisionConflictError,
    DecisionRecord,
    ProposalDetail,
    ProposalRecord,
    RunRecord,
    SqlProposalRepository,
)

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "DecisionConflictError",
    "DecisionRecord",
    "ProposalDetail",
    "ProposalRecord",
    "ProposalStatus",
    "RunRecord",
    "SqlApplyJournal",
    "SqlAuditLog",
    "SqlProposalRepository",
    "VerifyResult",
    "append_audit",
    "canonical_json",
    "current_revision",
    "head_revision",
    "make_engine",
    "migrate",
    "read_session",
    "verify_chain",
    "write_session",
]
