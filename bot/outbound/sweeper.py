"""The periodic sweep: rows whose task was lost go back to the queue; rows stranded mid-send are marked."""
from datetime import timedelta

from sqlalchemy import select, update

from ..cases import as_aware
from ..models import Outbound, utcnow
from ..statuses import OutboundStatus
from .rows import enqueue

STRANDED_AFTER = timedelta(minutes=5)


def sweep(runtime, stranded_after: timedelta = STRANDED_AFTER) -> int:
    """Re-queue rows whose task was lost; mark rows stranded mid-send. Returns how many were re-queued.
    Rows a worker died *during* the provider call are marked, not resent: the provider may already
    have delivered them."""
    now = utcnow()
    cutoff = now - stranded_after
    with runtime.transaction() as session:
        due = session.execute(select(Outbound.id, Outbound.next_attempt_at).where(
            Outbound.status.in_(OutboundStatus.waiting()), Outbound.broadcast_id.is_(None))).all()
        ids = [row_id for row_id, at in due if at is None or as_aware(at) <= cutoff]
        session.execute(update(Outbound).where(Outbound.status == OutboundStatus.SENDING, Outbound.updated_at <= cutoff)
                        .values(status=OutboundStatus.FAILED, failure_reason="interrupted",
                                failure_detail="the worker stopped during the provider call; not resent "
                                               "(the provider may have delivered it)", updated_at=now))
    enqueue(ids)
    return len(ids)
