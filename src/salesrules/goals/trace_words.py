"""The kernel's words in the targets' trace (``output.language``)."""

from __future__ import annotations

from typing import Any

from ..words import say

TRACE: dict[str, dict[str, str]] = {
    "push": {"en": "{lower} {lower_value} ÷ {what} {rate} ({why}) = {upper_value} {upper}",
             "zh": "{lower:stage} {lower_value} ÷ {what} {rate}（{why}）= {upper_value} "
                   "{upper:stage}"},
    "arpu": {"en": "ARPU", "zh": "客单价（ARPU）"},
    "step": {"en": "{upper}→{lower}", "zh": "{upper:stage}→{lower:stage}转化率"},
    "given": {"en": "{how} {stage} target {amount} for the {grain}",
              "zh": "{how}：{grain}{stage:stage}目标 {amount}"},
    "quarter": {"en": "quarter", "zh": "季度"}, "month": {"en": "month", "zh": "月度"},
    "prorated": {"en": ", prorated for {note}", "zh": "，按{note}折算"},
    "over": {"en": ", over {note}", "zh": "，覆盖{note}"},
    "confidence": {"en": "; at {conf:.0%} confidence of reaching {need:,.0f} {last}: {n:,} "
                         "{first}",
                   "zh": "；要有 {conf:.0%} 的把握达到{last:stage} {need:,.0f}：需{first:stage} "
                         "{n:,}"},
    "cap": {"en": "; capped at the feasible {value:,.0f} ({per_day:,.1f} a day, the {source}'s "
                  "{q:.0%} quantile, × {days} working days; uncapped {uncapped:,.1f}): the rest "
                  "of the gap is a conversion target, {stage}→{next} {need} (now {rate:.3g})",
            "zh": "；按可行水平封顶为 {value:,.0f}（每天 {per_day:,.1f}，即{source}的 {q:.0%} "
                  "分位 × {days} 个工作日；未封顶为 {uncapped:,.1f}）：其余差距是转化目标，"
                  "{stage:stage}→{next:stage} {need}（现为 {rate:.3g}）"},
    "out-of-reach": {"en": "more than 1 (out of reach by conversion alone)",
                     "zh": "大于 1（仅靠转化无法达到）"},
    "team": {"en": "team {team}", "zh": "团队{team}"},
    "company": {"en": "company", "zh": "全公司"},
    "level": {"en": "level {level}", "zh": "职级 {level}"},
    "tier": {"en": " × {m:g} ({tier})", "zh": " × {m:g}（{tier}）"},
    "shared": {"en": "team {team} target {amount:,.2f} shared by {cascade}",
               "zh": "团队{team}目标 {amount:,.2f}，按{cascade}分摊"},
    "less-own": {"en": " (less {n} member(s)' own rows)", "zh": "（扣除 {n} 名成员的单独目标）"},
    "hired": {"en": "hired {hired}: {after} of {of} working days",
              "zh": "{hired} 入职：{of} 个工作日中的 {after} 个"},
    "ramp": {"en": "ramp {ramp} in the first months", "zh": "前几个月爬坡 {ramp}"},
    "leave": {"en": "{off} leave day(s): {left} of {of} working days{kept}",
              "zh": "请假 {off} 天：{of} 个工作日中的 {left} 个{kept}"},
    "kept": {"en": " (target kept)", "zh": "（目标不变）"},
    "cascade.even": {"en": "even", "zh": "平均"},
    "cascade.level": {"en": "level", "zh": "职级"},
    "sep": {"en": "; ", "zh": "；"},
    "list-sep": {"en": ", ", "zh": "、"},
}


def trace(key: str, /, **fields: Any) -> str:
    """The trace's words ``key`` in the run's language, fields filled in."""
    return say(key, TRACE, **fields)
