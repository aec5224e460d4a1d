"""Delivery statuses the providers call back with (Twilio's status callbacks, Messenger's and Viber's
delivery events), as their adapters parsed them (channels.base.StatusUpdate)."""
from sqlalchemy import select, update

from ..channels.base import StatusUpdate
from ..models import Contact, Outbound, utcnow
from ..statuses import OutboundStatus

ORDER: dict[str, int] = {OutboundStatus.QUEUED: 0, OutboundStatus.SENDING: 1, OutboundStatus.SENT: 2, OutboundStatus.DELIVERED: 3,
                         OutboundStatus.READ: 4, OutboundStatus.UNDELIVERED: 3, OutboundStatus.FAILED: 3}


def record(runtime, channels: tuple[str, ...], update_: StatusUpdate) -> bool:
    """Statuses only move forward: a late 'sent' never undoes 'delivered', and the first final word
    (delivered, undelivered, failed) stays; 'read' may follow 'delivered'. Only rows of `channels`
    (the adapter's: another provider's ids may look the same). False: no such message of ours."""
    status = update_.status
    with runtime.transaction() as session:
        row = session.execute(select(Outbound).where(Outbound.provider_id == update_.provider_id,
                                                     Outbound.channel.in_(channels))
                              .order_by(Outbound.id).limit(1).with_for_update()).scalar_one_or_none()
        if row is None:
            return False
        if status in ORDER and ORDER[status] > ORDER.get(row.status, -1):
            row.status = status
            if status in (OutboundStatus.UNDELIVERED, OutboundStatus.FAILED):
                row.failure_reason = update_.reason or status
                if update_.stopped and row.contact_id:
                    session.execute(update(Contact).where(Contact.id == row.contact_id).values(
                        opted_out=True, subscribed=False))
            row.updated_at = utcnow()
        return True
