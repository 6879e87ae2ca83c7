"""Run the console: `python -m complaints_console.web` (or `complaints-console`)."""

from __future__ import annotations

import sys

import uvicorn
from prometheus_client import CollectorRegistry, disable_created_metrics
from pydantic import ValidationError

from complaints_console.readmodel.database import engine_for
from complaints_console.settings import ConsoleSettings
from complaints_console.users_file import UsersFileError, load_users
from complaints_console.web.app import build_app
from complaints_console.web.intake import IntakeClient
from complaints_kit.logs import configure_logging

SERVICE = "console"


def main() -> None:
    disable_created_metrics()  # type: ignore[no-untyped-call]
    try:
        settings = ConsoleSettings()
    except ValidationError as exc:
        sys.exit(f"console: invalid settings (CONSOLE_*):\n{exc}")
    try:  # before serving: a bad users file is reported at once
        users = load_users(settings.users_file)
    except UsersFileError as exc:
        sys.exit(f"console: invalid users file: {exc}")
    configure_logging(SERVICE, level=settings.log_level, json_lines=settings.log_json)
    app = build_app(
        settings,
        engine=engine_for(settings.database_url),
        users=users,
        intake=IntakeClient(
            settings.intake_url, api_key=settings.intake_api_key.get_secret_value()
        ),
        registry=CollectorRegistry(),
    )
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
