"""A finding's evidence as a small labelled table: one ``[label, value]`` row per figure,
numbers thousands separated, nested figures on one line; the exact figures are kept."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: Evidence keys in Chinese; stages take their funnel labels, other keys show as written.
KEYS_ZH = {
    "result": "结果环节", "actual": "实际", "expected_to_date": "应完成（至今）", "gap": "差距",
    "result_probability": "结果概率", "causes": "原因", "activity": "活动量",
    "per_day": "每工作日", "team_median_per_day": "团队每日中位数",
    "feasible_per_day": "每日可行水平", "needed_per_day": "每日所需", "vs_norm": "相对常模",
    "conversion": "转化", "vs_team": "相对团队", "probability": "概率", "steps": "各环节",
    "rep": "本人", "team": "团队", "benchmark": "标杆", "stage": "环节", "days": "天数",
    "since": "起始日", "rate": "转化率", "activity_vs_norm": "活动量相对常模",
    "expected_rate": "预期转化率", "expected": "预期", "rates_from": "转化率来源",
    "window": "时间窗", "weakest_step": "最弱环节", "weakest_vs_team": "最弱环节相对团队",
    "weakest_vs_benchmark": "最弱环节相对标杆", "meeting": "达标人数", "reps": "人数",
    "share": "占比", "threshold": "门槛", "behind": "未达标", "cause_shares": "原因占比",
    "missing_days": "缺失日期", "contradicting_rows": "自相矛盾的行", "date": "日期",
    "where": "位置", "upper": "上一环节", "lower": "本环节", "upper_value": "上一环节数值",
    "lower_value": "本环节数值",
    "rep_id": "销售编号", "tier": "当前档位", "next_tier": "下一档位", "target": "目标",
    "next_target": "下一档目标", "projected": "预计", "remaining_days": "剩余工作日",
    "daily_targets": "每日目标", "rate_z": "稳健 z 值", "follow_rate": "下一环节转化率",
    "follow_z": "下一环节 z 值", "team_median_rate": "团队中位数",
    "own_rate_before": "此前本人比率", "short_share": "短通话占比", "short_z": "短通话 z 值",
    "team_median_short_share": "团队短通话中位数",
}

#: Evidence values that are words, in Chinese (the cause values stay English in the CSVs).
VALUES_ZH = {
    "activity": "过程", "conversion": "转化", "data": "数据", "other": "其他",
    "history before the period": "本周期之前的历史",
    "the period so far, against the team": "本周期至今，与团队比较",
}

#: Rows shown per finding; the rest is in findings.csv.
MAX_ROWS = 12


def rows(evidence: Mapping[str, Any], lang: str, labels: dict[str, str]) -> list[list[str]]:
    """``[label, value]`` rows for a finding's evidence, in the report's language."""
    out: list[list[str]] = []
    for key, value in evidence.items():
        if isinstance(value, dict) and value:
            _nested(_key(key, lang, labels), value, lang, labels, out)
        else:
            out.append([_key(key, lang, labels), _value(value, lang, labels, key)])
    return out[:MAX_ROWS]


def _nested(label: str, value: dict[str, Any], lang: str, labels: dict[str, str],
            out: list[list[str]]) -> None:
    """A nested figure: its plain parts on one row, each nested table on rows of its own."""
    plain = {k: v for k, v in value.items() if not isinstance(v, dict)}
    if plain:
        out.append([label, _value(plain, lang, labels)])
    for k, v in value.items():
        if isinstance(v, dict):
            _nested(f"{label} · {_key(k, lang, labels)}", v, lang, labels, out)


def _key(key: str, lang: str, labels: dict[str, str]) -> str:
    if lang != "zh":
        return key.replace("_", " ")
    parts = key.split("→")
    if len(parts) > 1:
        return "→".join(labels.get(p) or p for p in parts)
    return labels.get(key) or KEYS_ZH.get(key, key.replace("_", " "))


def _value(value: Any, lang: str, labels: dict[str, str], key: str = "") -> str:
    if isinstance(value, dict):
        return ", ".join(f"{_key(k, lang, labels)} {_value(v, lang, labels, k)}"
                         for k, v in value.items())
    if isinstance(value, (list, tuple)):
        shown = [_value(v, lang, labels) for v in value[:8]]
        return ", ".join(shown) + (f" … (+{len(value) - 8})" if len(value) > 8 else "")
    if isinstance(value, str) and lang == "zh":
        parts = value.split("→")
        if all(p in labels for p in parts):  # a stage or a step
            return "→".join(labels[p] or p for p in parts)
    return number(value, exact="probability" in key, lang=lang)


def number(value: Any, exact: bool = False, lang: str = "en") -> str:
    """A figure as read: thousands separated; a probability exactly as computed; words in
    the report's language."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return VALUES_ZH.get(value, value) if lang == "zh" else value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return str(value)
    if exact or (value != 0 and abs(value) < 1e-3):
        return f"{value:.3g}"
    if value == int(value) and abs(value) >= 1:
        return f"{value:,.0f}"
    if abs(value) >= 1000:
        return f"{value:,.2f}"
    return f"{value:.4g}"
