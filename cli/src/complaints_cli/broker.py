"""A real single-node Apache Kafka broker (KRaft) on loopback, from jars fetched by Maven.

`mvn` fetches the broker named in deploy/kafka/pom.xml from Maven Central into the
local Maven repository (cached between runs) and copies the class path into
deploy/kafka/target/lib. Setting KAFKA_BOOTSTRAP_SERVERS names an existing broker
instead, and nothing is started.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka.admin import AdminClient

REPO_ROOT = Path(__file__).resolve().parents[3]
KAFKA_DIR = REPO_ROOT / "deploy" / "kafka"
POM = KAFKA_DIR / "pom.xml"
LIB_DIR = KAFKA_DIR / "target" / "lib"
STAMP = KAFKA_DIR / "target" / "pom.sha256"

LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka.server.KafkaRaftServer
logger.kafka.level = INFO
"""


class BrokerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def ensure_jars(*, quiet: bool = True) -> Path:
    """Fetch the broker's jars with mvn unless the cached copy matches the pom."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    if LIB_DIR.is_dir() and STAMP.exists() and STAMP.read_text() == digest:
        return LIB_DIR
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError("mvn is not on PATH: install Maven (apt-get install maven)")
    shutil.rmtree(LIB_DIR, ignore_errors=True)
    cmd = [mvn, "-B", "-f", str(POM), "dependency:copy-dependencies"]
    if quiet:
        cmd.insert(1, "-q")
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BrokerError(
            "mvn could not fetch Apache Kafka from Maven Central:\n"
            + (result.stdout + result.stderr)[-4000:]
        )
    STAMP.write_text(digest)
    return LIB_DIR


def new_cluster_id() -> str:
    """A Kafka cluster id; like Kafka's Uuid, never one starting with '-' (read as an option)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def kafka_version() -> str:
    jars = sorted(LIB_DIR.glob("kafka_2.13-*.jar"))
    return jars[0].stem.removeprefix("kafka_2.13-") if jars else "unknown"


@dataclass
class LocalKafka:
    """One KRaft broker+controller process with its data under `state_dir`."""

    state_dir: Path
    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    heap: str = "768m"
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "broker.log"

    def _properties(self) -> str:
        data = self.state_dir / "data"
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                f"CONTROLLER://127.0.0.1:{self.controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                f"log.dirs={data}",
                "num.partitions=1",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=10",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=true",
                "",
            ]
        )

    def _java(self, main: str, *args: str) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise BrokerError(
                "java is not on PATH: install a JDK 17+ (apt-get install default-jdk)"
            )
        classpath = os.pathsep.join(str(p) for p in sorted(LIB_DIR.glob("*.jar")))
        return [
            java,
            f"-Xmx{self.heap}",
            "-Xms256m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.state_dir / 'log4j2.properties'}",
            "-cp",
            classpath,
            main,
            *args,
        ]

    def start(self, *, timeout: float = 90.0) -> None:
        """Format storage on first start, start the broker and wait until it answers."""
        ensure_jars()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        props = self.state_dir / "server.properties"
        props.write_text(self._properties())
        (self.state_dir / "log4j2.properties").write_text(LOG4J2)
        if not (self.state_dir / "data" / "meta.properties").exists():
            cluster_id = new_cluster_id()
            subprocess.run(
                self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)),
                check=True,
                capture_output=True,
            )
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self._java("kafka.Kafka", str(props)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready(timeout=timeout)

    def wait_ready(self, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        # Quiet: refused connections are expected until the broker listens.
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "log_level": 0})
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BrokerError(f"broker exited early; see {self.log_path}")
            with contextlib.suppress(Exception):
                metadata = admin.list_topics(timeout=2)
                if metadata.brokers:
                    return
            time.sleep(0.3)
        raise BrokerError(f"broker did not answer within {timeout:.0f}s; see {self.log_path}")

    def stop(self, *, timeout: float = 30.0) -> None:
        """SIGTERM for a controlled shutdown; SIGKILL if it does not finish in time."""
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def kafka_broker(state_dir: Path) -> Iterator[str]:
    """Yield bootstrap servers: the broker named by KAFKA_BOOTSTRAP_SERVERS, or a local one."""
    existing = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if existing:
        yield existing
        return
    broker = LocalKafka(state_dir=state_dir)
    broker.start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()
