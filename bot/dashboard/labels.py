"""Words the dashboard shows from stored values (statuses, kinds, roles, channels, audit actions).

Templates translate them with `_(value.replace('_', ' '))`; listing them here with N_ puts
them in the catalogs, which `pybabel extract` would otherwise never see.
"""
from handlers.i18n import N_

STATUSES = (N_("new"), N_("acknowledged"), N_("referred"), N_("in progress"), N_("resolved"), N_("closed"))
KINDS = (N_("complaint"), N_("question"), N_("help request"), N_("suggestion"), N_("thanks"))
ROLES = (N_("admin"), N_("officer"), N_("focal point"), N_("viewer"), N_("editor"), N_("translator"))
REVIEW_STATES = (N_("draft"), N_("needs update"), N_("reviewed"))
VERSION_STATES = (N_("published"), N_("archived"), N_("discarded"))
CHANNELS = (N_("telegram"), N_("sms"), N_("whatsapp"), N_("messenger"),
            N_("viber"), N_("voice"))   # a channel without a translation shows its name
BROADCAST_STATUSES = (N_("draft"), N_("approved"), N_("scheduled"), N_("sending"), N_("paused"), N_("done"),
                      N_("cancelled"))
POLL_STATUSES = (N_("open"), N_("closed"))     # the rest are the broadcasts' words
DELIVERY = (N_("queued"), N_("sent"), N_("delivered"), N_("failed"), N_("pending"), N_("undeliverable"))
FLASHES = {
    "contact_saved": N_("Saved in the draft: people see it once the draft is published."),
    "keyword_published": N_("Keyword added and published: the bot answers this question now."),
    "keyword_drafted": N_("Keyword added to the draft: it reaches people when the draft is published."),
    "translations_applied": N_("The translations are in the draft, marked for review."),
    "answer_queued": N_("Answer queued: it goes out on the person's channel."),
    "answer_unreachable": N_("Answer saved, but it cannot be sent: the person sent STOP, deleted their data, "
                             "or wrote from the try page. They see it if they ask for the status."),
    "empty_answer": N_("Write an answer first."),
    "voice_answer_queued": N_("Voice answer queued: it goes out on the person's channel."),
    "reason_needed": N_("Say why you need the full number."),
    "erased": N_("The person's data was erased."),
    "not_yourself": N_("You cannot disable or change your own account here."),
    "picture_too_big": N_("The picture is over 5 MB."),
}

PEOPLE = (N_("the person"), N_("{name} (command line)"))
MISSED_KINDS = (N_("no answer"), N_("did you mean"), N_("language switch"))
CONTACT_USES = (N_("general"), N_("sensitive"), N_("migration"), N_("health"))
AUDIT_ACTIONS = {
    "login": N_("signed in"), "logout": N_("signed out"), "login_failed": N_("failed sign-in"),
    "view_case": N_("opened the case"), "view_contact": N_("opened the contact"), "view_media": N_("opened an attachment"),
    "case_status": N_("changed the status"), "case_note": N_("added a note"), "case_assign": N_("assigned"),
    "answer": N_("answered"), "export": N_("exported"), "reveal_address": N_("revealed a full number"),
    "erase_contact": N_("erased a person's data"), "broadcast_create": N_("wrote a broadcast"),
    "broadcast_approve": N_("approved a broadcast"), "broadcast_send": N_("sent a broadcast"),
    "broadcast_pause": N_("paused a broadcast"), "broadcast_resume": N_("resumed a broadcast"),
    "broadcast_cancel": N_("cancelled a broadcast"), "answer_case": N_("answered"),
    "retention_purge": N_("deleted old texts (retention)"), "user_create": N_("created an account"),
    "user_disable": N_("disabled an account"), "user_enable": N_("enabled an account"),
    "user_role": N_("changed a role"), "user_languages": N_("set a translator's languages"),
    "content_seed": N_("loaded the first content"), "content_draft": N_("started a content draft"),
    "content_import": N_("imported content files"), "content_edit": N_("edited an item"),
    "content_review": N_("marked an item reviewed"), "content_new_item": N_("added an item"),
    "content_move": N_("moved an item"), "content_retire": N_("retired an item"),
    "content_step": N_("changed an item's steps"), "content_picture": N_("uploaded a picture"),
    "content_publish": N_("published content"), "content_restore": N_("restored a content version"),
    "content_discard": N_("discarded the content draft"), "content_keyword": N_("added a keyword"),
    "content_contact": N_("changed a referral contact"), "content_translations": N_("imported a translation file"),
    "content_file_export": N_("downloaded a translation file"),
    "poll_create": N_("wrote a poll"), "poll_edit": N_("changed a poll"), "poll_approve": N_("approved a poll"),
    "poll_send": N_("sent a poll"), "poll_close": N_("closed a poll"), "poll_cancel": N_("cancelled a poll"),
    "poll_export": N_("exported poll results"), "poll_view_answers": N_("read a poll's free answers"),
}
