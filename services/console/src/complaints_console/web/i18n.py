"""The console's words in Chinese and English; the language comes from ?lang=, a cookie or
Accept-Language (Chinese first: the owners' language)."""

from __future__ import annotations

LANGUAGES = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "app": ("投诉工作台", "Complaints console"),
    "queue": ("工作队列", "Work queue"),
    "triage": ("待人工分类", "Needs triage"),
    "reports": ("报表", "Reports"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误", "Wrong username or password"),
    "complaint": ("投诉", "Complaint"),
    "complaints": ("投诉", "complaints"),
    "title": ("标题", "Title"),
    "severity": ("等级", "Severity"),
    "scope": ("范围", "Scope"),
    "category": ("类别", "Category"),
    "department": ("部门", "Department"),
    "channel": ("渠道", "Channel"),
    "status": ("状态", "Status"),
    "clock": ("时钟", "Clock"),
    "remaining": ("剩余时间", "Remaining"),
    "next_step": ("下一步", "Next step"),
    "accepted_at": ("受理时间", "Accepted"),
    "cluster": ("问题簇", "Cluster"),
    "all": ("全部", "All"),
    "filters": ("筛选", "Filters"),
    "overdue": ("已超时", "Overdue"),
    "paused": ("已暂停", "Paused"),
    "closed": ("已关闭", "Closed"),
    "apply": ("应用", "Apply"),
    "more": ("更多", "More"),
    "none": ("无", "None"),
    "customer": ("客户", "Customer"),
    "description": ("内容", "Description"),
    "classification": ("分类", "Classification"),
    "reasons": ("依据", "Reasons"),
    "confidence": ("置信度", "Confidence"),
    "clocks": ("时钟", "Clocks"),
    "deadline": ("截止", "Deadline"),
    "used": ("已用", "Used"),
    "budget": ("额度", "Allowance"),
    "periods": ("时段", "Periods"),
    "policy_version": ("策略版本", "Policy version"),
    "timeline": ("处理记录", "Timeline"),
    "actions": ("操作", "Actions"),
    "note": ("备注", "Note"),
    "to_department": ("转至部门", "To department"),
    "submit": ("提交", "Submit"),
    "receivers": ("接收人", "Receivers"),
    "members": ("成员", "Members"),
    "count_over_time": ("累计数量", "Count over time"),
    "channels": ("渠道分布", "Channels"),
    "period": ("期间", "Period"),
    "from": ("从", "From"),
    "to": ("至", "To"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "response_within_sla": ("响应达标率", "Response within SLA"),
    "t3_closure": ("T+3 结案率", "T+3 closure"),
    "top_issues": ("前五共性问题", "Top 5 common issues"),
    "by_department": ("各部门升级与转派", "Escalations and transfers by department"),
    "breaches_by_clock": ("各时钟超时", "Breaches by clock"),
    "escalations": ("升级", "Escalations"),
    "warnings": ("预警", "Warnings"),
    "transfers": ("转派", "Transfers"),
    "met": ("达标", "Met"),
    "breached": ("超时", "Breached"),
    "open": ("进行中", "Open"),
    "rate": ("比率", "Rate"),
    "not_found": ("找不到该投诉，或您无权查看", "No such complaint, or not yours to see"),
    "forbidden": ("无权执行此操作", "Not allowed"),
    "published": ("已提交", "Published"),
    "action_failed": ("提交失败，请重试", "Could not publish; try again"),
    "pending": ("处理中", "pending"),
    "planned": ("预计", "planned"),
    "none_sent": ("无后续升级", "no further escalation due"),
    "off_hours": ("非工作时间", "off hours"),
    "running": ("计时中", "running"),
    "stopped": ("已停止", "stopped"),
    # statuses
    "st_new": ("新建", "new"),
    "st_open": ("待处理", "open"),
    "st_acknowledged": ("已确认", "acknowledged"),
    "st_paused": ("已暂停", "paused"),
    "st_resolved": ("已解决", "resolved"),
    "st_closed": ("已关闭", "closed"),
    # steps and actions
    "k_accepted": ("受理", "accepted"),
    "k_classified": ("分类", "classified"),
    "k_reclassified": ("重新分类", "reclassified"),
    "k_linked": ("重复投诉并入", "duplicate joined"),
    "k_clustered": ("并入共性问题", "joined a common issue"),
    "k_warning": ("预警", "warning"),
    "k_breach": ("超时升级", "breach"),
    "k_acknowledged": ("确认", "acknowledged"),
    "k_responded": ("已答复", "responded"),
    "k_paused": ("暂停", "paused"),
    "k_resumed": ("恢复", "resumed"),
    "k_resolved": ("解决", "resolved"),
    "k_closed": ("关闭", "closed"),
    "k_reopened": ("重新打开", "reopened"),
    "k_transferred": ("转派", "transferred"),
    "k_policy_reapplied": ("重新应用策略", "policy reapplied"),
    "a_acknowledged": ("确认受理", "Acknowledge"),
    "a_responded": ("已答复", "Responded"),
    "a_paused": ("暂停", "Pause"),
    "a_resumed": ("恢复", "Resume"),
    "a_resolved": ("解决", "Resolve"),
    "a_closed": ("关闭", "Close"),
    "a_reopened": ("重新打开", "Reopen"),
    "a_transferred": ("转派", "Transfer"),
    "a_reclassified": ("重新分类", "Reclassify"),
    "delivered": ("已送达", "delivered"),
    "failed": ("失败", "failed"),
    "no_deliveries": ("尚无送达记录", "no delivery recorded yet"),
    "red": ("红", "red"),
    "yellow": ("黄", "yellow"),
    "green": ("绿", "green"),
    "individual": ("个案", "individual"),
    "common": ("共性", "common"),
    "risk": ("风险", "risk"),
    "demo_hint": ("演示账号见 make dev 输出", "Demo accounts: see the make dev output"),
}


def translate(key: str | None, lang: str) -> str:
    if not key:
        return ""
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def pick_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    if accept:
        first = accept.split(",")[0].strip().lower()
        if first.startswith("en"):
            return "en"
    return "zh"
