"""The audit log of the chair's and staff's actions (全程纪实): append-only, with times, never ballots."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from tally.store.models import AuditEntry


def record(s: Session, actor: str, action: str, **detail: Any) -> None:
    s.add(AuditEntry(at=datetime.now(UTC).replace(tzinfo=None), actor=actor, action=action,
                     detail=json.dumps(detail, ensure_ascii=False, sort_keys=True)))
