"""The kernel's words in assignment reasons (``output.language``): the rule prefix, caps,
notes on a lead's history, duplicates, unmatched leads. Policies keep their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..words import say, sayer, template

REASONS: dict[str, dict[str, str]] = {
    "prefix": {"en": "rule {rule!r} → {policy}: ", "zh": "规则 {rule!r} → {policy}："},
    "note": {"en": "{note}; {rest}", "zh": "{note}；{rest}"},
    "cap": {"en": "{n} of cap {cap} today", "zh": "今日第 {n} 条，上限 {cap}"},
    "no-cap": {"en": "lead {n} today, no cap", "zh": "今日第 {n} 条，无上限"},
    "no-one": {"en": "the policy gave it to no one", "zh": "策略没有分给任何人"},
    "kept": {"en": "kept from the run at {at} UTC; {reason}",
             "zh": "沿用 {at} UTC 那次运行的分配；{reason}"},
    "unmatched": {"en": "no routing rule matched ({names})", "zh": "没有匹配的分配规则（{names}）"},
    "duplicate": {"en": "duplicate of {first} (same {field}){where}; handled once",
                  "zh": "与 {first} 重复（{field}相同）{where}；只处理一次"},
    "field.phone": {"en": "phone", "zh": "电话"},
    "field.email": {"en": "email", "zh": "邮箱"},
    "went": {"en": ", which went to {rep}", "zh": "，该线索已分给 {rep}"},
    "went-nowhere": {"en": ", which is unassigned", "zh": "，该线索未分配"},
    "account-full": {"en": "account {account} is owned by {owner}, who is at their cap today",
                     "zh": "客户 {account} 归 {owner} 负责，但其今日已满额"},
    "account": {"en": "account {account} is owned by {owner}; kept with the account's rep; "
                      "{cap}",
                "zh": "客户 {account} 归 {owner} 负责；留给该客户的负责人；{cap}"},
    # polars formats: one {} per column, in order
    "pool.inactive": {"en": "previous owner {} is inactive", "zh": "原负责人 {} 已不在职"},
    "pool.unknown": {"en": "previous owner {} is not in the reps file",
                     "zh": "原负责人 {} 不在销售名单中"},
    "pool.recycled": {"en": "recycled from {} (assigned {}, no follow-up within {} days)",
                      "zh": "从 {} 回收（{} 分配，{} 天内未跟进）"},
}


def reason(key: str, /, **fields: Any) -> str:
    """The reason ``key`` in the run's language, fields filled in."""
    return say(key, REASONS, **fields)


def reasoner(key: str) -> Callable[..., str]:
    """The reason ``key`` in the run's language as a function of its fields: for a reason
    given to many leads, looked up once."""
    return sayer(key, REASONS)


def polars_format(key: str) -> str:
    """The template ``key`` for ``pl.format`` (positional ``{}``), in the run's language."""
    return template(key, REASONS)
