"""Builds the console (FastAPI + Jinja2 + htmx) from settings; nothing connects at import."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware

from complaints_console.domain.access import User
from complaints_console.domain.timefmt import human, urgency
from complaints_console.metrics import ConsoleMetrics
from complaints_console.readmodel.database import at_head
from complaints_console.settings import ConsoleSettings
from complaints_console.web.i18n import pick_language, translate
from complaints_console.web.intake import IntakeClient
from complaints_kit.clock import Clock, SystemClock

HERE = Path(__file__).resolve().parent
STATIC_VERSION = "2.0.11"


@dataclass
class Console:
    """What every request handler needs, on app.state.console."""

    settings: ConsoleSettings
    engine: Engine
    users: dict[str, User]
    intake: IntakeClient
    clock: Clock
    metrics: ConsoleMetrics
    templates: Jinja2Templates


class SignInRequired(Exception):
    """Raised by `signed_in`: the browser is sent to the sign-in page."""


class CsrfRefused(Exception):
    pass


def console(request: Request) -> Console:
    value: Console = request.app.state.console
    return value


def language(request: Request) -> str:
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get("lang"),
        request.headers.get("accept-language"),
    )


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use), sent back with every form."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    """Every POST carries the session's token: a form field or the X-CSRF-Token header."""
    expected = request.session.get("csrf")
    presented = request.headers.get("x-csrf-token")
    if presented is None:
        form = await request.form()
        value = form.get("csrf")
        presented = value if isinstance(value, str) else None
    if not expected or not presented or not hmac.compare_digest(str(expected), presented):
        raise CsrfRefused


def signed_in(request: Request) -> User:
    """The signed-in user (still in the users file), or SignInRequired."""
    username = request.session.get("user")
    started = request.session.get("since")
    ctx = console(request)
    user = ctx.users.get(username) if isinstance(username, str) else None
    max_age = ctx.settings.session_max_age.total_seconds()
    if user is None or not isinstance(started, int | float) or time.time() - started > max_age:
        raise SignInRequired
    return user


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> Response:
    ctx = console(request)
    lang = language(request)
    now = ctx.clock.now()
    response = ctx.templates.TemplateResponse(
        request,
        template,
        {
            "t": lambda key: translate(key, lang),
            "lang": lang,
            "now": now,
            "csrf": csrf_token(request),
            "human": lambda delta: human(delta, lang=lang),
            "span": lambda seconds: human(timedelta(seconds=seconds), lang=lang),
            "remaining": lambda deadline: None if deadline is None else deadline - now,
            "urgency": urgency,
            "static_version": STATIC_VERSION,
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
    return response


def build_app(
    settings: ConsoleSettings,
    *,
    engine: Engine,
    users: dict[str, User],
    intake: IntakeClient,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
) -> FastAPI:
    from complaints_console.web import routes

    registry = registry if registry is not None else CollectorRegistry()
    metrics = ConsoleMetrics(registry)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await intake.aclose()
        engine.dispose()

    app = FastAPI(title="Complaints console", docs_url=None, redoc_url=None, lifespan=lifespan)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.state.console = Console(
        settings=settings,
        engine=engine,
        users=users,
        intake=intake,
        clock=clock or SystemClock(),
        metrics=metrics,
        templates=templates,
    )
    secret = settings.session_secret.get_secret_value() or secrets.token_urlsafe(48)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="console_session",
        max_age=int(settings.session_max_age.total_seconds()),
        same_site="lax",
        https_only=settings.secure_cookies,
    )

    @app.middleware("http")
    async def timed(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "other")
        metrics.pages.labels(path, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.exception_handler(SignInRequired)
    async def to_sign_in(request: Request, _: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={_safe_next(target)}", status_code=303)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _: CsrfRefused) -> Response:
        return Response("CSRF token missing or wrong; reload the page.", status_code=403)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return Response("ok\n", media_type="text/plain")

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        try:
            ready = at_head(engine)
        except Exception:
            ready = False
        return Response(
            "ready\n" if ready else "not ready\n",
            status_code=200 if ready else 503,
            media_type="text/plain",
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics_page() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(routes.router)
    return app


def _safe_next(target: str) -> str:
    """Only a path on this site (no scheme, no //host): no open redirect."""
    from urllib.parse import quote

    if not target.startswith("/") or target.startswith("//"):
        return "/"
    return quote(target, safe="/?=&")
