"""Words the dashboard shows from stored values (statuses, kinds, roles, channels, audit actions).

Templates translate them with `_(value.replace('_', ' '))`; listing them here with N_ puts
them in the catalogs, which `pybabel extract` would otherwise never see.
"""
from handlers.i18n import N_

STATUSES = (N_("new"), N_("acknowledged"), N_("referred"), N_("in progress"), N_("resolved"), N_("closed"))
KINDS = (N_("complaint"), N_("question"), N_("help request"), N_("suggestion"), N_("thanks"))
ROLES = (N_("admin"), N_("officer"), N_("focal point"), N_("viewer"))
CHANNELS = (N_("telegram"), N_("sms"), N_("whatsapp"))
BROADCAST_STATUSES = (N_("draft"), N_("approved"), N_("scheduled"), N_("sending"), N_("paused"), N_("done"),
                      N_("cancelled"))
DELIVERY = (N_("queued"), N_("sent"), N_("delivered"), N_("failed"), N_("pending"), N_("undeliverable"))
FLASHES = {
    "answer_queued": N_("Answer queued: it goes out on the person's channel."),
    "empty_answer": N_("Write an answer first."),
    "reason_needed": N_("Say why you need the full number."),
    "erased": N_("The person's data was erased."),
}
