"""The whole pipeline on one machine: the four services and a webhook sink over one broker."""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from complaints_cli.broker import REPO_ROOT, free_port, port_free
from complaints_cli.processes import (
    CONSOLE_SERVICES,
    DEFAULT_PORTS,
    MODULES,
    SERVICES,
    ServiceProcess,
)
from complaints_cli.sink import WebhookSink
from complaints_kit.kafka import provision_topics
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import ALL_TOPICS


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass
class Stack:
    bootstrap: str
    workdir: Path
    env: dict[str, dict[str, str]] = field(default_factory=dict)
    fixed_ports: bool = False  # the documented ports where free, else any free port
    sink_port: int = 0
    secret: str = field(default_factory=new_webhook_secret)
    # The escalation ops port's /v1/complaints and /v1/reports answer only with this token.
    status_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    sink: WebhookSink | None = None
    # The projector and the web console over a read model: SQLite in the workdir unless
    # `database_url` names one (the e2e tests and `make dev` start them).
    console: bool = False
    database_url: str = ""
    users_file: Path = REPO_ROOT / "config" / "console" / "users.example.yaml"
    console_port: int = 0

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    def start(self, *, timeout: float = 120.0) -> dict[str, float]:
        """Provision topics, start the sink and every service; return seconds to ready each."""
        provision_topics(KafkaSettings(bootstrap_servers=self.bootstrap), ALL_TOPICS)
        self.sink = WebhookSink(
            secret=self.secret, port=self.sink_port, log_path=self.workdir / "sink.jsonl"
        ).start()
        if self.console:
            default = DEFAULT_PORTS["console"]
            self.console_port = default if self.fixed_ports and port_free(default) else free_port()
            self.database_url = (
                self.database_url or f"sqlite:///{self.workdir / 'console' / 'readmodel.db'}"
            )
        names = [*SERVICES, *(CONSOLE_SERVICES if self.console else ())]
        ready: dict[str, float] = {}
        for name in names:
            self.services[name] = self._process(name)
            self.services[name].start()
            if name == "projector":  # it migrates the database the console reads
                ready[name] = self.services[name].wait_ready(timeout)
        for name, proc in self.services.items():
            ready.setdefault(name, proc.wait_ready(timeout))
        return ready

    def add_replica(self, name: str, *, timeout: float = 120.0) -> ServiceProcess:
        """Start one more worker of a service, in the same consumer group: scaling out."""
        replica = self._process(name, instance=sum(1 for k in self.services if k.startswith(name)))
        self.services[replica.name] = replica
        replica.start()
        replica.wait_ready(timeout)
        return replica

    def _process(self, name: str, instance: int = 0) -> ServiceProcess:
        default = DEFAULT_PORTS[name]
        port = default if self.fixed_ports and port_free(default) and not instance else free_port()
        if name == "console":
            port = self.console_port
        prefix = name.upper()
        label = f"{name}-{instance + 1}" if instance else name
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            f"{prefix}_LOG_JSON": "true",
            f"{prefix}_DATA_DIR": str(self.workdir / "data" / label),
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
        }
        if name == "escalation":
            env["ESCALATION_STATUS_TOKEN"] = self.status_token
        if self.console:
            env |= self._console_env(name)
        if name == "notifier":
            assert self.sink is not None
            env |= {"NOTIFIER_WEBHOOK_URL": self.sink.url, "NOTIFIER_WEBHOOK_SECRET": self.secret}
        env |= self.env.get(name, {})
        return ServiceProcess(
            name=label,
            module=MODULES.get(name, name),
            port=port,
            env=env,
            log_dir=self.workdir / "logs",
        )

    def _console_env(self, name: str) -> dict[str, str]:
        """Links to the console (alerts, intake's Location) and the console's own settings."""
        if name == "notifier":
            return {"NOTIFIER_STATUS_URL_TEMPLATE": self.console_url + "/complaints/{complaint_id}"}
        if name == "intake":
            return {"INTAKE_CONSOLE_URL": self.console_url}
        if name == "projector":
            return {"CONSOLE_DATABASE_URL": self.database_url}
        if name == "console":
            return {
                "CONSOLE_DATABASE_URL": self.database_url,
                "CONSOLE_USERS_FILE": str(self.users_file),
                "CONSOLE_INTAKE_URL": self.services["intake"].base_url,
                "CONSOLE_PUBLIC_URL": self.console_url,
                "CONSOLE_SESSION_SECRET": secrets.token_urlsafe(48),
            }
        return {}

    def restart(self, name: str) -> float:
        """Start a service again (after stop or kill) with the same settings and port."""
        self.services[name].start()
        return self.services[name].wait_ready()

    def stop(self) -> None:
        for proc in reversed(list(self.services.values())):
            proc.stop()
        if self.sink is not None:
            self.sink.stop()
            self.sink = None
