"""The console's pages: sign-in, queue, complaint, cluster, triage, reports, actions."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from complaints_console.domain.access import User
from complaints_console.domain.charts import bar_chart, stacked_bars
from complaints_console.domain.lifecycle import allowed_actions
from complaints_console.readmodel import queries
from complaints_console.readmodel.reports import report
from complaints_console.readmodel.tables import steps
from complaints_console.readmodel.upsert import insert_ignore
from complaints_console.web.app import check_csrf, console, language, render, signed_in
from complaints_console.web.i18n import translate
from complaints_console.web.intake import IntakeError
from complaints_schemas.events import LifecycleAction, Scope, Severity
from complaints_schemas.pii import mask

router = APIRouter()
Signed = Annotated[User, Depends(signed_in)]
_hasher = PasswordHasher()
# A hash to verify against for unknown users, so timing does not tell who exists.
_DUMMY_HASH = _hasher.hash("not a password")


@router.get("/")
async def home(user: Signed) -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/login")
async def login_page(request: Request, next: str = "/queue") -> Response:
    return render(request, "login.html", next=next if next.startswith("/") else "/queue")


@router.post("/login", dependencies=[Depends(check_csrf)])
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=500)] = "/queue",
) -> Response:
    ctx = console(request)
    user = ctx.users.get(username)
    ok = await asyncio.to_thread(_verify, user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok:
        ctx.metrics.logins.labels("refused").inc()
        return render(request, "login.html", status_code=401, error="bad_login", next=next)
    ctx.metrics.logins.labels("ok").inc()
    csrf = request.session.get("csrf")
    request.session.clear()  # a new session on sign-in (no fixation)
    request.session.update(user=user.username, since=int(time.time()), csrf=csrf)
    target = next if next.startswith("/") and not next.startswith("//") else "/queue"
    return RedirectResponse(target, status_code=303)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


@router.post("/logout", dependencies=[Depends(check_csrf)])
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _queue_query(
    user: User,
    *,
    department: str | None,
    f: list[str],
    cluster: str | None,
    channel: str | None,
    severity: str | None,
    page: int,
    page_size: int,
) -> queries.QueueQuery:
    return queries.QueueQuery(
        departments=user.scope,
        department=department or None,
        filters=frozenset(x for x in f if x in queries.FILTERS),
        cluster_id=cluster or None,
        channel=channel or None,
        severity=severity or None,
        limit=page_size,
        offset=max(0, page) * page_size,
    )


@router.get("/queue")
async def queue_page(
    request: Request,
    user: Signed,
    department: str | None = None,
    f: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the literal
    cluster: str | None = None,
    channel: str | None = None,
    severity: str | None = None,
    page: int = 0,
) -> Response:
    ctx = console(request)
    q = _queue_query(
        user,
        department=department,
        f=f,
        cluster=cluster,
        channel=channel,
        severity=severity,
        page=page,
        page_size=ctx.settings.page_size,
    )
    now = ctx.clock.now()

    def read() -> tuple[queries.QueuePage, list[str]]:
        with ctx.engine.connect() as conn:
            page_ = queries.queue(conn, q, now=now)
            departments = user.departments if user.scope is not None else queries.departments(conn)
        return page_, sorted(departments)

    result, departments = await asyncio.to_thread(read)
    params = {
        k: v
        for k, v in {
            "department": department,
            "cluster": cluster,
            "channel": channel,
            "severity": severity,
        }.items()
        if v
    }
    base = urlencode([*params.items(), *(("f", x) for x in q.filters)])
    template = "_queue_rows.html" if request.headers.get("hx-request") else "queue.html"
    return render(
        request,
        template,
        user=user,
        page=result,
        q=q,
        departments=departments,
        query=base,
        next_page=page + 1,
        heading="triage" if "triage" in q.filters else "queue",
    )


@router.get("/triage")
async def triage(request: Request, user: Signed) -> Response:
    return RedirectResponse("/queue?f=triage", status_code=303)


def _complaint(request: Request, user: User, complaint_id: str) -> queries.ComplaintPage | None:
    with console(request).engine.connect() as conn:
        return queries.complaint_page(conn, complaint_id, departments=user.scope)


@router.get("/complaints/{complaint_id}")
async def complaint(request: Request, user: Signed, complaint_id: str) -> Response:
    page = await asyncio.to_thread(_complaint, request, user, complaint_id)
    if page is None:
        return render(request, "error.html", status_code=404, user=user, message="not_found")
    return render(request, "complaint.html", **_complaint_context(user, page))


@router.get("/complaints/{complaint_id}/live")
async def complaint_live(request: Request, user: Signed, complaint_id: str) -> Response:
    """The clocks and the timeline, refreshed in place by htmx."""
    page = await asyncio.to_thread(_complaint, request, user, complaint_id)
    if page is None:
        return Response(status_code=404)
    return render(request, "_live.html", **_complaint_context(user, page))


def _complaint_context(user: User, page: queries.ComplaintPage) -> dict[str, Any]:
    status = page.complaint.status
    return {
        "user": user,
        "page": page,
        "c": page.complaint,
        "actions": [a for a in allowed_actions(status) if user.may(a)],
    }


@router.post("/complaints/{complaint_id}/actions", dependencies=[Depends(check_csrf)])
async def act(
    request: Request,
    user: Signed,
    complaint_id: str,
    action: Annotated[LifecycleAction, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
    to_department: Annotated[str, Form(max_length=128)] = "",
    severity: Annotated[str, Form(max_length=16)] = "",
    scope: Annotated[str, Form(max_length=16)] = "",
    category: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Publish the step through intake, show it in the timeline at once (pending until the
    projector reads it back from complaints.lifecycle.v1)."""
    ctx = console(request)
    page = await asyncio.to_thread(_complaint, request, user, complaint_id)
    if page is None:
        return render(request, "error.html", status_code=404, user=user, message="not_found")
    allowed = action in allowed_actions(page.complaint.status) and user.may(action)
    transfer = action is LifecycleAction.TRANSFERRED
    reclassify = action is LifecycleAction.RECLASSIFIED
    new = {
        "severity": severity if severity in {s.value for s in Severity} else None,
        "scope": scope if scope in {s.value for s in Scope} else None,
        "category": category.strip() or None,
    }
    if reclassify:  # only what differs from now
        c = page.complaint
        new = {k: v for k, v in new.items() if v is not None and v != getattr(c, k)}
    missing = (transfer and not to_department.strip()) or (reclassify and not new)
    if not allowed or missing:
        ctx.metrics.actions.labels(action.value, "refused").inc()
        return _after_action(request, user, complaint_id, error="forbidden", status_code=403)
    event_id = f"console-{uuid.uuid4().hex}"
    now = ctx.clock.now()
    note_text = note.strip() or None
    try:
        await ctx.intake.record(
            complaint_id,
            action=action.value,
            event_id=event_id,
            occurred_at=now,
            actor=user.actor,
            note=note_text,
            to_department=to_department.strip() if transfer else None,
            **(new if reclassify else {}),
        )
    except IntakeError:
        ctx.metrics.actions.labels(action.value, "failed").inc()
        return _after_action(request, user, complaint_id, error="action_failed", status_code=502)
    ctx.metrics.actions.labels(action.value, "published").inc()

    def remember() -> None:
        with ctx.engine.begin() as conn:
            insert_ignore(
                conn,
                steps,
                {
                    "step_id": f"lifecycle:{event_id}",
                    "complaint_id": complaint_id,
                    "at": now,
                    "kind": action.value,
                    "actor": user.actor,
                    "note": mask(note_text) if note_text else None,
                    "department": page.complaint.department,
                    "to_department": to_department.strip() if transfer else None,
                    "detail": {**new, "department": page.complaint.department}
                    if reclassify
                    else {},
                    "pending": True,
                },
            )

    await asyncio.to_thread(remember)
    return _after_action(request, user, complaint_id, message="published")


def _after_action(
    request: Request,
    user: User,
    complaint_id: str,
    *,
    error: str | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)
    page = _complaint(request, user, complaint_id)
    if page is None:
        return Response(status_code=404)
    return render(
        request,
        "_complaint_body.html",
        status_code=status_code if error else 200,
        error=error,
        message=message,
        **_complaint_context(user, page),
    )


@router.get("/clusters/{cluster_id}")
async def cluster(request: Request, user: Signed, cluster_id: str) -> Response:
    ctx = console(request)

    def read() -> dict[str, Any] | None:
        with ctx.engine.connect() as conn:
            return queries.cluster_page(conn, cluster_id, departments=user.scope)

    data = await asyncio.to_thread(read)
    if data is None:
        return render(request, "error.html", status_code=404, user=user, message="not_found")
    lang = language(request)
    growth_svg = bar_chart(data["growth"], title=translate("count_over_time", lang))
    channel_svg = bar_chart(data["channels"], title=translate("channels", lang), colour="#16a34a")
    return render(
        request,
        "cluster.html",
        user=user,
        data=data,
        growth_svg=growth_svg,
        channel_svg=channel_svg,
    )


def _period(start: str | None, end: str | None, *, now: datetime) -> tuple[datetime, datetime]:
    """[from, to] as days (to inclusive); default: the last 30 days."""
    today = now.date()
    try:
        first = date.fromisoformat(start) if start else today - timedelta(days=29)
        last = date.fromisoformat(end) if end else today
    except ValueError:
        first, last = today - timedelta(days=29), today
    if last < first:
        first, last = last, first
    begin = datetime.combine(first, datetime.min.time(), UTC)
    finish = datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC)
    return begin, finish


@router.get("/reports")
async def reports(
    request: Request,
    user: Signed,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    if not user.sees_reports:
        return render(request, "error.html", status_code=403, user=user, message="forbidden")
    ctx = console(request)
    now = ctx.clock.now()
    begin, finish = _period(start, end, now=now)

    def read() -> Any:
        with ctx.engine.connect() as conn:
            return report(conn, start=begin, end=finish, now=now, departments=user.scope)

    r = await asyncio.to_thread(read)
    lang = language(request)

    def t(key: str) -> str:
        return translate(key, lang)

    charts = {
        "clocks": stacked_bars(
            [
                (name, (tally.met, tally.breached, tally.open))
                for name, tally in sorted(r.clocks.items())
            ],
            title=f"{t('met')} / {t('breached')} / {t('open')}",
            legend=(t("met"), t("breached"), t("open")),
        ),
        "issues": bar_chart(
            [(f"{i['title'] or i['cluster_id']}", i["complaints"]) for i in r.top_issues],
            title=t("top_issues"),
            colour="#d97706",
        ),
        "departments": stacked_bars(
            [(d["department"], (d["escalations"], d["transfers"])) for d in r.departments],
            title=t("by_department"),
            legend=(t("escalations"), t("transfers")),
        ),
        "breaches": bar_chart(
            r.breaches_by_clock(), title=t("breaches_by_clock"), colour="#dc2626"
        ),
    }
    return render(
        request,
        "reports.html",
        user=user,
        r=r,
        charts=charts,
        start=begin.date().isoformat(),
        end=(finish.date() - timedelta(days=1)).isoformat(),
    )


@router.get("/reports.csv")
async def reports_csv(
    request: Request,
    user: Signed,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    if not user.sees_reports:
        return Response(status_code=403)
    ctx = console(request)
    now = ctx.clock.now()
    begin, finish = _period(start, end, now=now)

    def read() -> Any:
        with ctx.engine.connect() as conn:
            return report(conn, start=begin, end=finish, now=now, departments=user.scope)

    r = await asyncio.to_thread(read)
    out = io.StringIO()
    csv.writer(out).writerows(r.csv_rows())
    name = f"complaints-report-{begin.date()}-{(finish - timedelta(days=1)).date()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
