"""What the model and the signals decide for one complaint, with the reasons and confidence.

Errors cost unequally: a red complaint rated green is the worst, so red is chosen at a
probability below one half (the operating point trained with the model), lower still with a
harm signal, and a complaint with a harm signal is never green.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from complaints_classifier.model.features import complaint_text
from complaints_classifier.model.linear import LinearModel
from complaints_classifier.model.signals import HARM, SPREAD, Signal, red_phrase, signals
from complaints_schemas.events import ComplaintAccepted, Reason, Severity

STAKES = (*HARM, "deadline")  # what makes a VIP complaint red under the default VIP policy


@dataclass(frozen=True, slots=True)
class Thresholds:
    red_alone: float = 0.4
    red_with_signal: float = 0.15
    risk_alone: float = 0.35
    risk_with_signal: float = 0.2
    # Below these a person decides (needs_triage): the complaint is at least yellow.
    category_floor: float = 0.4
    severity_floor: float = 0.45

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Thresholds:
        found = meta.get("thresholds", {})
        red, risk, default = found.get("red", {}), found.get("risk", {}), cls()
        return cls(
            red_alone=float(red.get("alone", default.red_alone)),
            red_with_signal=float(red.get("with_signal", default.red_with_signal)),
            risk_alone=float(risk.get("alone", default.risk_alone)),
            risk_with_signal=float(risk.get("with_signal", default.risk_with_signal)),
        )


@dataclass(frozen=True, slots=True)
class Judgement:
    category: str
    category_confidence: float
    severity: Severity
    severity_confidence: float
    risk: bool
    risk_confidence: float
    signals: tuple[Signal, ...]
    needs_triage: bool
    version: str
    reasons: tuple[Reason, ...]

    @property
    def at_stake(self) -> bool:
        return any(s.name in STAKES for s in self.signals)

    @property
    def confidence(self) -> float:
        return min(self.category_confidence, self.severity_confidence)


SIGNATURE_SIZE = 48  # words kept per complaint for similarity


class Judge:
    """A trained model with its operating thresholds; `judge` is a pure function of the text."""

    def __init__(self, model: LinearModel, thresholds: Thresholds) -> None:
        self.model = model
        self.thresholds = thresholds

    @property
    def version(self) -> str:
        return self.model.version

    def text(self, complaint: ComplaintAccepted) -> str:
        return complaint_text(complaint.title, complaint.description)

    def signature(self, text: str) -> tuple[tuple[int, int], ...]:
        """The complaint's strongest words (id, weight quantised to 1-255): a compact state."""
        vector = self.model.word_vector(text)
        strongest = sorted(vector.items(), key=lambda kv: -kv[1])[:SIGNATURE_SIZE]
        return tuple(sorted((k, max(1, round(v * 255))) for k, v in strongest))

    @property
    def similarity_threshold(self) -> float:
        return self.model.similarity_threshold

    def judge(self, text: str) -> Judgement:
        t = self.thresholds
        prediction = self.model.predict(text)
        found = signals(text)
        harm = [s for s in found if s.name in HARM]
        spread = [s for s in found if s.name in SPREAD]
        rule = f"model.{prediction.version}"
        reasons: list[Reason] = []

        cat = prediction.heads["category"]
        category, category_p = cat.best
        reasons.append(
            Reason(
                decision="category",
                rule=f"{rule}.category",
                detail=f"{category} p={category_p:.2f}{_signals(cat.top)}",
            )
        )
        sev = prediction.heads["severity"]
        p_red = sev.p("red")
        if p_red >= t.red_alone or (harm and p_red >= t.red_with_signal):
            severity, severity_p = Severity.RED, p_red
            why = (
                f"red p={p_red:.2f} >= {t.red_alone if p_red >= t.red_alone else t.red_with_signal}"
            )
        else:
            yellow, green = sev.p("yellow"), sev.p("green")
            severity = Severity.YELLOW if yellow >= green else Severity.GREEN
            severity_p = max(yellow, green)
            why = f"{severity} p={severity_p:.2f} (red p={p_red:.2f})"
        reasons.append(
            Reason(decision="severity", rule=f"{rule}.severity", detail=why + _signals(sev.top))
        )
        for s in harm:
            reasons.append(
                Reason(decision="severity", rule=f"signal.{s.name}", detail=f"{s.phrase!r}")
            )
        named = red_phrase(text)
        if named is not None and severity is not Severity.RED:
            reasons.append(
                Reason(
                    decision="severity",
                    rule="signal.red",
                    detail=f"{named!r} is one of the labelling policy's red cases: "
                    f"{severity} -> red",
                )
            )
            severity, severity_p = Severity.RED, max(severity_p, p_red)
        if harm and severity is Severity.GREEN:
            severity = Severity.YELLOW
            reasons.append(
                Reason(
                    decision="severity",
                    rule="signal.never_green",
                    detail="a complaint with a harm signal is at least yellow",
                )
            )
        needs_triage = category_p < t.category_floor or severity_p < t.severity_floor
        if needs_triage:
            detail = (
                f"category p={category_p:.2f} (floor {t.category_floor}), severity "
                f"p={severity_p:.2f} (floor {t.severity_floor}): a person decides"
            )
            if severity is Severity.GREEN:
                severity = Severity.YELLOW
                detail += "; at least yellow meanwhile"
            reasons.append(Reason(decision="severity", rule="model.needs_triage", detail=detail))

        risk_head = prediction.heads["risk"]
        p_risk = risk_head.p("risk")
        risk = p_risk >= t.risk_alone or bool(spread and p_risk >= t.risk_with_signal)
        if risk:
            reasons.append(
                Reason(
                    decision="scope",
                    rule=f"{rule}.risk",
                    detail=f"risk p={p_risk:.2f}"
                    + (f"; {', '.join(f'{s.name} {s.phrase!r}' for s in spread)}" if spread else "")
                    + _signals(risk_head.top),
                )
            )
        return Judgement(
            category=category,
            category_confidence=category_p,
            severity=severity,
            severity_confidence=severity_p,
            risk=risk,
            risk_confidence=p_risk if risk else 1.0 - p_risk,
            signals=found,
            needs_triage=needs_triage,
            version=prediction.version,
            reasons=tuple(reasons),
        )


def _signals(top: tuple[str, ...]) -> str:
    shown = [t.removeprefix("w:").removeprefix("s:").strip() for t in top]
    shown = [t for t in shown if t]
    return f"; signals {', '.join(repr(t) for t in shown)}" if shown else ""
