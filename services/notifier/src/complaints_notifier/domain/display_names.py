"""Names people read in an alert (zh, en) for the ids on an escalation: clock, department,
category, scope, severity. Configured names win over the built-in ones; an unknown id shows
as itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

KINDS = ("clocks", "departments", "categories", "scopes", "severities")
Names = Mapping[str, Mapping[str, Mapping[str, str]]]  # kind -> id -> language -> name

BUILT_IN: Names = {
    "clocks": {
        "response": {"zh": "响应时限", "en": "response deadline"},
        "resolution": {"zh": "解决时限", "en": "resolution deadline"},
        "closure": {"zh": "T+3 结案时限", "en": "T+3 closure deadline"},
        "refund": {"zh": "退款时限", "en": "refund deadline"},
        "risk": {"zh": "风险处置", "en": "risk escalation"},
        "cluster": {"zh": "共性问题", "en": "common issue"},
    },
    "scopes": {
        "individual": {"zh": "个案", "en": "individual"},
        "common": {"zh": "共性问题", "en": "common issue"},
        "risk": {"zh": "风险投诉", "en": "risk complaint"},
    },
    "severities": {
        "red": {"zh": "红色", "en": "red"},
        "yellow": {"zh": "黄色", "en": "yellow"},
        "green": {"zh": "绿色", "en": "green"},
    },
}


@dataclass(frozen=True, slots=True)
class DisplayNames:
    """`configured` from the routing file's `names:`; looked up before `BUILT_IN`."""

    configured: Names = field(default_factory=dict)

    def name(self, kind: str, value: str, *, language: str) -> str:
        for source in (self.configured, BUILT_IN):
            names = source.get(kind, {}).get(value)
            if names:
                found = names.get(language) or names.get("zh") or names.get("en")
                if found:
                    return found
        return value


DEFAULT_NAMES = DisplayNames()
