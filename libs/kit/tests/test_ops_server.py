from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter

from complaints_kit.ops_server import OpsServer


async def _get(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def test_serves_metrics_health_and_readiness() -> None:
    registry = CollectorRegistry()
    Counter("complaints_demo_total", "demo", registry=registry).inc(3)
    ready = False
    server = OpsServer(registry=registry, ready=lambda: ready, host="127.0.0.1", port=0)
    await server.start()
    try:
        status, body = await _get(server.port, "/metrics")
        assert status == 200
        assert b"complaints_demo_total 3.0" in body
        assert (await _get(server.port, "/healthz"))[0] == 200
        assert (await _get(server.port, "/readyz"))[0] == 503
        ready = True
        assert (await _get(server.port, "/readyz"))[0] == 200
        assert (await _get(server.port, "/nope"))[0] == 404
    finally:
        await server.stop()
