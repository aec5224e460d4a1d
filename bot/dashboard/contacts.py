"""Contacts: masked by default; revealing an address and erasing a person are admin actions, audited."""
import json

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from .. import cases as case_service
from .. import channels
from ..masking import mask
from ..models import AuditEvent, Case, Contact, Message
from . import blueprint, page_number, require, runtime
from .cases import area_names, conversation_hidden, visible

PAGE_SIZE = 50


@blueprint.get("/contacts")
def contacts():
    require("see_personal_data")
    rt = runtime()
    page = page_number(request.args)
    query = select(Contact).where(Contact.channel.in_(channels.names()))
    for column in ("channel", "language", "area"):
        if request.args.get(column):
            query = query.where(getattr(Contact, column) == request.args[column])
    if request.args.get("subscribed") in ("yes", "no"):
        query = query.where(Contact.subscribed.is_(request.args["subscribed"] == "yes"))
    with rt.transaction() as db:
        total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = db.execute(query.order_by(Contact.last_seen_at.desc().nullslast(), Contact.id.desc())
                          .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    people = [{"c": c, "address": mask(c.channel, rt.vault.decrypt(c.address_enc))} for c in rows]
    return render_template("dashboard/contacts.html", people=people, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), args=request.args, areas=area_names(g.ui_lang))


def _contact_or_404(db, contact_id: int) -> Contact:
    contact = db.get(Contact, contact_id)
    if contact is None:
        abort(404)
    return contact


@blueprint.get("/contacts/<int:contact_id>")
def contact_page(contact_id):
    require("see_personal_data")
    rt = runtime()
    with rt.transaction() as db:
        contact = _contact_or_404(db, contact_id)
        db.add(AuditEvent(actor=f"user:{g.user.id}", action="view_contact", target=f"contact:{contact.id}"))
        their_cases = db.execute(visible(select(Case).where(Case.contact_id == contact.id))
                                 .order_by(Case.id.desc())).scalars().all()
        messages = [] if conversation_hidden(db, contact.id) else db.execute(
            select(Message).where(Message.contact_id == contact.id).order_by(Message.id.desc()).limit(50)
        ).scalars().all()[::-1]
    log = [{"at": m.created_at, "text": rt.vault.decrypt(m.text_enc) if m.text_enc else "",
            "replies": [r["text"] for r in json.loads(rt.vault.decrypt(m.replies_enc) or "[]")]
            if m.replies_enc else []} for m in messages]
    revealed = request.args.get("revealed") == "1" and session_reveal(contact.id)
    address = rt.vault.decrypt(contact.address_enc) if revealed else mask(contact.channel,
                                                                          rt.vault.decrypt(contact.address_enc))
    return render_template("dashboard/contact.html", contact=contact, address=address, revealed=revealed,
                           cases=their_cases, log=log, areas=area_names(g.ui_lang))


def session_reveal(contact_id: int) -> bool:
    from flask import session
    return session.pop("reveal", None) == contact_id


@blueprint.post("/contacts/<int:contact_id>/reveal")
def reveal(contact_id):
    """Show one full address once; who asked and why is in the audit log."""
    require("reveal_address")
    from flask import session
    reason = (request.form.get("reason") or "").strip()[:200]
    if not reason:
        flash("reason_needed")
        return redirect(url_for("dashboard.contact_page", contact_id=contact_id))
    with runtime().transaction() as db:
        _contact_or_404(db, contact_id)
        db.add(AuditEvent(actor=f"user:{g.user.id}", action="reveal_address", target=f"contact:{contact_id}",
                          detail=reason))
    session["reveal"] = contact_id
    return redirect(url_for("dashboard.contact_page", contact_id=contact_id, revealed=1))


@blueprint.post("/contacts/<int:contact_id>/erase")
def erase(contact_id):
    """Erasure on the person's request (they asked by phone or in person)."""
    require("erase_contact")
    if request.form.get("confirm") != "erase":
        abort(400)
    with runtime().transaction() as db:
        _contact_or_404(db, contact_id)
        case_service.erase_contact(db, contact_id, actor=f"user:{g.user.id}")
    flash("erased")
    return redirect(url_for("dashboard.contacts"))
