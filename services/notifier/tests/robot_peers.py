"""Real local HTTP servers that check requests as each vendor documents them and answer likewise.

DingTalk: POST /robot/send?access_token=T[&timestamp=ms&sign=urlencoded(base64(HMAC(secret,
"ts\\nsecret")))], 200 + {"errcode", "errmsg"}. Feishu: POST /open-apis/bot/v2/hook/T with
"timestamp" and "sign" = base64(HMAC(key="ts\\nsecret", msg="")) in the body, 200 + {"code", "msg"}.
WeCom: POST /cgi-bin/webhook/send?key=K, 200 + {"errcode", "errmsg"}. Slack: POST /services/…,
200 "ok", 4xx with a plain-text error, 429 with Retry-After.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Hit:
    path: str
    query: dict[str, list[str]]
    raw_query: str
    body: Any
    answered: tuple[int, Any]


class VendorPeer:
    """`kind` in dingtalk, feishu, wecom, slack; `script` answers (status, body) in order first."""

    def __init__(self, kind: str, *, token: str = "tok", secret: str | None = None) -> None:
        self.kind = kind
        self.token = token
        self.secret = secret
        self.script: list[tuple[int, Any, dict[str, str]]] = []
        self.hits: list[Hit] = []
        self.down = False
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return {
            "dingtalk": f"{self.base}/robot/send?access_token={self.token}",
            "feishu": f"{self.base}/open-apis/bot/v2/hook/{self.token}",
            "wecom": f"{self.base}/cgi-bin/webhook/send?key={self.token}",
            "slack": f"{self.base}/services/T000/B000/{self.token}",
        }[self.kind]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def delivered(self) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.answered[0] == 200 and _ok(h.answered[1])]

    # --- the vendors' checks -------------------------------------------------------------

    def _check(self, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        check = getattr(self, f"_check_{self.kind}")
        answer: tuple[int, Any] = check(path, query, body)
        return answer

    def _check_dingtalk(self, path: str, q: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if path != "/robot/send" or q.get("access_token") != [self.token]:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        if self.secret is not None:
            ts = q.get("timestamp", [""])[0]
            sign = q.get("sign", [""])[0]  # parse_qs URL-decodes: '+' must have been %2B
            if not ts.isdigit() or abs(int(ts) - time.time() * 1000) > 3600_000:
                return 200, {"errcode": 310000, "errmsg": "sign not match, timestamp expired"}
            mac = hmac.new(self.secret.encode(), f"{ts}\n{self.secret}".encode(), hashlib.sha256)
            if not hmac.compare_digest(sign, base64.b64encode(mac.digest()).decode()):
                return 200, {"errcode": 310000, "errmsg": "sign not match"}
        if body.get("msgtype") != "markdown":
            return 200, {"errcode": 40035, "errmsg": "缺少参数 msgtype"}
        markdown = body.get("markdown", {})
        if not markdown.get("title") or not markdown.get("text"):
            return 200, {"errcode": 40035, "errmsg": "缺少参数 markdown"}
        for mobile in body.get("at", {}).get("atMobiles", []):
            if f"@{mobile}" not in markdown["text"]:
                return 200, {"errcode": 40035, "errmsg": f"@{mobile} not in text"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _check_feishu(self, path: str, q: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if path != f"/open-apis/bot/v2/hook/{self.token}":
            return 200, {
                "code": 19001,
                "msg": "param invalid: incoming webhook access token invalid",
            }
        if self.secret is not None:
            ts = str(body.get("timestamp", ""))
            key = f"{ts}\n{self.secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            fresh = ts.isdigit() and abs(int(ts) - time.time()) <= 3600
            if not fresh or not hmac.compare_digest(str(body.get("sign", "")), expected):
                return 200, {
                    "code": 19021,
                    "msg": "sign match fail or timestamp is not within one hour from current time",
                }
        card = body.get("card")
        if body.get("msg_type") != "interactive" or not isinstance(card, dict):
            return 200, {"code": 9499, "msg": "Bad Request"}
        if not card.get("header", {}).get("title", {}).get("content") or not card.get("elements"):
            return 200, {"code": 9499, "msg": "card header or elements missing"}
        return 200, {
            "StatusCode": 0,
            "StatusMessage": "success",
            "code": 0,
            "data": {},
            "msg": "success",
        }

    def _check_wecom(self, path: str, q: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if path != "/cgi-bin/webhook/send" or q.get("key") != [self.token]:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url, hint: [x]"}
        if body.get("msgtype") != "markdown":
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        content = body.get("markdown", {}).get("content", "")
        if not content:
            return 200, {"errcode": 44004, "errmsg": "empty content"}
        if len(content.encode()) > 4096:
            return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _check_slack(self, path: str, q: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if not path.endswith(f"/{self.token}"):
            return 404, "no_service"
        if not isinstance(body.get("blocks"), list) or not body.get("text"):
            return 400, "invalid_blocks"
        for block in body["blocks"]:
            if block.get("type") == "section" and len(block["text"]["text"]) > 3000:
                return 400, "invalid_blocks"
        return 200, "ok"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if peer.down:
                    self.connection.close()  # looks like a dead peer: no answer at all
                    return
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                extra: dict[str, str] = {}
                with peer._lock:
                    scripted = peer.script.pop(0) if peer.script else None
                if scripted is not None:
                    status, answer, extra = scripted
                elif not isinstance(body, dict):
                    status, answer = 400, "invalid_payload"
                else:
                    status, answer = peer._check(parts.path, query, body)
                with peer._lock:
                    peer.hits.append(Hit(parts.path, query, parts.query, body, (status, answer)))
                data = (json.dumps(answer) if not isinstance(answer, str) else answer).encode()
                self.send_response(status)
                ctype = "text/plain" if isinstance(answer, str) else "application/json"
                self.send_header("content-type", ctype)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def _ok(answer: Any) -> bool:
    if isinstance(answer, str):
        return answer == "ok"
    return answer.get("errcode", answer.get("code", 0)) == 0
