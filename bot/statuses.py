"""The closed sets of values that status-like columns hold, as StrEnums.

A member is its string: the database, JSON, templates and the tests keep the very same values (no
migration), `row.status == "sent"` still holds, and a typo in code is a NameError instead of a row no
query ever finds. Case statuses and kinds, and conversation states, live with the dialogue
(handlers/conversation.py), which tells people about them; they are repeated here so storage code has
one place to import from. Failure reasons stay strings: providers add their own codes (twilio_30003).
"""
from enum import StrEnum

from handlers.conversation import CaseKind, CaseStatus, State

__all__ = ["BroadcastStatus", "CaseEventAction", "CaseKind", "CaseStatus", "ContentState", "OutboundStatus",
           "Purpose", "ReviewState", "State"]


class OutboundStatus(StrEnum):
    """Where one outbound row is (models.Outbound.status)."""
    PENDING = "pending"              # written, not yet handed to the task queue
    QUEUED = "queued"                # handed to the queue, or waiting for its retry
    SENDING = "sending"              # claimed by a worker: the provider call is under way
    SENT = "sent"                    # the provider took it
    DELIVERED = "delivered"          # the provider's delivery callbacks, in the order they may come
    READ = "read"
    UNDELIVERED = "undelivered"
    FAILED = "failed"                # the provider refused it, or it failed too often
    UNDELIVERABLE = "undeliverable"  # never sent: opted out, erased, unsubscribed, window closed
    CANCELLED = "cancelled"          # its broadcast was cancelled first

    @classmethod
    def waiting(cls) -> tuple["OutboundStatus", ...]:
        """Not yet claimed by a worker."""
        return (cls.PENDING, cls.QUEUED)

    @classmethod
    def open(cls) -> tuple["OutboundStatus", ...]:
        """Not finished: waiting, or with a worker now."""
        return (cls.PENDING, cls.QUEUED, cls.SENDING)


class Purpose(StrEnum):
    """Why an outbound row was written (models.Outbound.purpose)."""
    REPLY = "reply"            # the dialogue's answer, sent from the queue
    ANSWER = "answer"          # a staff member's answer to a case
    BROADCAST = "broadcast"    # one person's copy of an announcement


class BroadcastStatus(StrEnum):
    """Where an announcement is (models.Broadcast.status)."""
    DRAFT = "draft"
    APPROVED = "approved"      # by a second person, where APPROVAL_REQUIRED
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


class ContentState(StrEnum):
    """A content version's state (models.ContentVersion.state)."""
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"      # published before; can be restored
    DISCARDED = "discarded"


class ReviewState(StrEnum):
    """A translation's review in content/reviews.yaml (content_review.py); absent means draft."""
    DRAFT = "draft"
    NEEDS_UPDATE = "needs_update"
    REVIEWED = "reviewed"


class CaseEventAction(StrEnum):
    """What a case event records (models.CaseEvent.action)."""
    STATUS = "status"
    ANSWER = "answer"
    NOTE = "note"
    ADDED = "added"            # the person added words or media to their case
    ASSIGN = "assign"
