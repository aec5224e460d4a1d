"""The outbound queue: every message sent outside a webhook response is a row first, then a task.

- rows: queue_reply writes the row (in the caller's transaction); enqueue hands its id to Huey after
  commit; claim (pending/queued -> sending) and finish;
- sending: send_one claims, sends through the channel's adapter, records the outcome. A second task for
  the same row finds nothing to claim: a retry never sends twice;
- windows: channels with a session window (WhatsApp, Messenger): what passes it, or not reachable;
- prepared: broadcast rows read ahead by the runner, outcomes written in batches;
- statuses: delivery callbacks; sweeper: re-queue rows whose task was lost, mark rows stranded mid-send
  (not resent, since the provider may already have delivered them).
"""
from .prepared import RECORD_EVERY, Prepared, Recorder, send_prepared
from .rows import FINAL, MAX_ATTEMPTS, backoff, enqueue, queue_reply
from .sending import send_now, send_one, set_gate
from .statuses import record as record_status
from .sweeper import STRANDED_AFTER, sweep

__all__ = ["RECORD_EVERY", "Prepared", "Recorder", "send_prepared", "FINAL", "MAX_ATTEMPTS", "backoff", "enqueue",
           "queue_reply", "send_now", "send_one", "set_gate", "record_status", "STRANDED_AFTER", "sweep"]
