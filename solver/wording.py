"""What the command line says, in plain words, in Chinese or English.

The language is ``PAICHAN_LANG`` (``zh`` or ``en``), else the locale's (``LANG`` starting
with ``zh``), else English. Only words a planner reads are here; ids, dates and numbers
are printed as they are.
"""

from __future__ import annotations

import os

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "plan": "排产结果",
        "measure": "项目",
        "value": "数值",
        "status": "结果",
        "status.OPTIMAL": "最优（已证明）",
        "status.FEASIBLE": "可行（未证明最优）",
        "status.INFEASIBLE": "无可行方案",
        "status.UNKNOWN": "未找到方案",
        "stages": "求解过程",
        "stage.unscheduled_and_lateness": "未排与延期",
        "stage.stability_and_holding": "改动与存放",
        "stage.lns": "邻域搜索",
        "stage.sequence_search": "顺序调整",
        "stage.bound": "下界",
        "orders_planned": "已排订单",
        "orders_late": "延期订单",
        "orders_unscheduled": "未排订单",
        "on_time_rate": "准时率",
        "unscheduled_priority": "未排订单的优先级合计（≥ 后为任何方案都达不到更低的下界）",
        "weighted_days_late": "加权延期天数（≥ 后为任何方案都达不到更低的下界）",
        "changed_orders": "相对上一方案改动的订单",
        "holding_days": "成品超过 {days} 天未提货的天数",
        "edd": "按交期先后排时的加权延期天数（对照）",
        "seconds": "用时（秒）",
        "validator": "独立校验",
        "valid": "通过",
        "violations": "{n} 处违反规则",
        "utilisation": "产线利用率",
        "line": "产线",
        "share": "利用率",
        "unscheduled": "未排订单",
        "order": "订单",
        "reason": "原因",
        "warning": "提醒",
        "moved": "相对已发布方案调整的订单：{n}",
        "moved_one": "  调整：{order}",
        "newly_late": "新增延期的订单：{n}",
        "newly_late_one": "  新增延期：{order}",
        "first_plan": "这是第一个方案：没有可对照的已发布方案",
    },
    "en": {
        "plan": "paichan plan",
        "measure": "measure",
        "value": "value",
        "status": "result",
        "status.OPTIMAL": "best possible (proved)",
        "status.FEASIBLE": "a valid plan (not proved best)",
        "status.INFEASIBLE": "no valid plan exists",
        "status.UNKNOWN": "no plan found",
        "stages": "how it was solved",
        "stage.unscheduled_and_lateness": "orders left out and lateness",
        "stage.stability_and_holding": "changes and holding",
        "stage.lns": "neighbourhood search",
        "stage.sequence_search": "re-sequencing",
        "stage.bound": "lower bound",
        "orders_planned": "orders planned",
        "orders_late": "orders late",
        "orders_unscheduled": "orders left out",
        "on_time_rate": "on-time rate",
        "unscheduled_priority": "priority of orders left out (≥ what no plan can beat)",
        "weighted_days_late": "weighted days late (≥ what no plan can beat)",
        "changed_orders": "orders changed against the previous plan",
        "holding_days": "days finished goods wait beyond {days} days",
        "edd": "weighted days late if planned by due date (for comparison)",
        "seconds": "seconds",
        "validator": "independent check",
        "valid": "OK",
        "violations": "{n} rule(s) broken",
        "utilisation": "line utilisation",
        "line": "line",
        "share": "utilisation",
        "unscheduled": "orders left out",
        "order": "order",
        "reason": "reason",
        "warning": "warning",
        "moved": "orders moved against the published plan: {n}",
        "moved_one": "  moved: {order}",
        "newly_late": "orders newly late: {n}",
        "newly_late_one": "  newly late: {order}",
        "first_plan": "this is the first plan: there is no published plan to compare with",
    },
}


def language() -> str:
    chosen = os.environ.get("PAICHAN_LANG", "").lower()
    if chosen in TEXTS:
        return chosen
    return "zh" if os.environ.get("LANG", "").lower().startswith("zh") else "en"


def say(key: str, **values: object) -> str:
    """The text for ``key`` in the command line's language, with ``values`` filled in."""
    texts = TEXTS[language()]
    return texts.get(key, TEXTS["en"].get(key, key)).format(**values)
