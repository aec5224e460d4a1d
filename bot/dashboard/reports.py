"""Reports (charts drawn by the app), exports (the same as the command line) and the audit log."""
from collections import Counter
from datetime import timedelta
from statistics import median

from flask import Response, g, render_template, request
from sqlalchemy import func, select

from handlers.content import pick

from .. import cases as case_service
from .. import export, users
from ..models import AuditEvent, Case, Message, utcnow
from . import blueprint, page_number, require, runtime
from .cases import area_names, visible
from .charts import bars, stacked_columns

WEEKS = 12


def _hours(delta) -> float:
    return round(delta.total_seconds() / 3600, 1)


@blueprint.get("/reports")
def reports():
    require("see_cases")
    rt = runtime()
    t_lang = g.ui_lang
    since = utcnow() - timedelta(weeks=WEEKS)
    with rt.transaction() as db:
        rows = db.execute(visible(select(Case.created_at, Case.kind, Case.language, Case.channel, Case.area,
                                         Case.first_answer_at, Case.closed_at))
                          .where(Case.created_at >= since)).all()
        most_read = db.execute(select(Message.item, func.count()).where(
            Message.item.is_not(None), Message.created_at >= since).group_by(Message.item)
            .order_by(func.count().desc()).limit(10)).all()
    from . import template_helpers
    t = template_helpers()["_"]
    start = (utcnow() - timedelta(weeks=WEEKS - 1)).date()
    start -= timedelta(days=start.weekday())
    weeks = [start + timedelta(weeks=i) for i in range(WEEKS)]
    series = {kind: [0] * WEEKS for kind in case_service.KINDS}
    for created, kind, *_ in rows:
        index = (case_service.as_aware(created).date() - start).days // 7
        if 0 <= index < WEEKS and kind in series:
            series[kind][index] += 1
    kind_labels = {k: t(k.replace("_", " ")) for k in case_service.KINDS}
    week_labels = [w.strftime("%d/%m") for w in weeks]
    content = rt.content.get()
    areas = area_names(t_lang)
    first = [case_service.as_aware(a) - case_service.as_aware(c) for c, *_, a, _ in rows if a]
    closed = [case_service.as_aware(z) - case_service.as_aware(c) for c, *_, z in rows if z]
    rtl = g.ui_lang in ("ar", "ckb")
    return render_template(
        "dashboard/reports.html",
        by_week=stacked_columns(week_labels, series, kind_labels),
        by_language=bars(sorted(Counter(r[2] or "?" for r in rows).items()), rtl=rtl),
        by_channel=bars(sorted(Counter(r[3] for r in rows).items()), rtl=rtl),
        by_area=bars(Counter(areas.get(r[4], t("unknown")) if r[4] else t("unknown") for r in rows)
                     .most_common(12), rtl=rtl),
        most_read=bars([(pick(content.items[i].title, t_lang) if i in content.items else i, n)
                        for i, n in most_read], rtl=rtl),
        total=len(rows), median_first=_hours(median(first)) if first else None,
        median_close=_hours(median(closed)) if closed else None, weeks=WEEKS,
        statuses=case_service.STATUSES)


@blueprint.get("/export.<fmt>")
def export_cases(fmt):
    require("export")
    if fmt not in ("csv", "json"):
        return Response("format must be csv or json", status=404)
    statuses = tuple(s for s in request.args.getlist("status") if s in case_service.STATUSES)
    since = None
    if request.args.get("since"):
        from datetime import datetime, timezone
        try:
            since = datetime.strptime(request.args["since"], "%Y-%m-%d").replace(tzinfo=timezone.utc)
        except ValueError:
            return Response("since must be YYYY-MM-DD", status=400)
    records = export.rows(runtime(), since, statuses, include_sensitive_text=users.can(g.user, "see_sensitive"),
                          actor=f"user:{g.user.id}")
    if not users.can(g.user, "see_sensitive"):
        records = [r for r in records if not r["sensitive"]]
    if fmt == "csv":
        # The byte-order mark tells Excel the file is UTF-8: without it Arabic and Kurdish come out garbled.
        return Response("\ufeff" + export.to_csv(records), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=feedback.csv"})
    return Response(export.to_json_lines(records), mimetype="application/x-ndjson",
                    headers={"Content-Disposition": "attachment; filename=feedback.jsonl"})


@blueprint.get("/audit")
def audit():
    require("audit_log")
    page = page_number(request.args)
    with runtime().transaction() as db:
        query = select(AuditEvent)
        if request.args.get("action"):
            query = query.where(AuditEvent.action == request.args["action"])
        rows = db.execute(query.order_by(AuditEvent.id.desc()).limit(100).offset((page - 1) * 100)).scalars().all()
        actions = [a for (a,) in db.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action))]
    return render_template("dashboard/audit.html", rows=rows, page=page, actions=actions, args=request.args)
