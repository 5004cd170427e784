"""The backtest's answers in plain sentences, in English or Chinese (``output.language``)."""

from __future__ import annotations

import math

from ..words import speaking, stage
from . import BacktestResult
from .goals_fit import HORIZON_DAYS, MODELS
from .metrics import FOLLOWING

MODEL_ZH = {"personal": "个人转化率", "team-rates": "团队转化率", "standard": "公司统一标准"}
MODEL_EN = {"personal": "personal", "team-rates": "team-rates",
            "standard": "one company standard"}


def _pct(x: float) -> str:
    return f"{x:.0%}" if not math.isnan(x) else "n/a"


def goals_sentence(r: BacktestResult, zh: bool) -> str:
    overall = r.goals.overall()
    if not overall:
        return (f"目标：没有一个日期之后有足够的数据（{HORIZON_DAYS} 天）来检验转化率。" if zh
                else f"Goals: no date had {HORIZON_DAYS} days of data after it, so no model's "
                     "rates could be checked.")
    ranked = sorted(overall.items(), key=lambda kv: kv[1])
    best, err = ranked[0]
    names = MODEL_ZH if zh else MODEL_EN
    others = ranked[1:]
    stated = sum(f.stated for f in r.goals.summary())
    if zh:
        text = (f"目标：{names[best]} 最贴合本团队，转化率的误差为实际值的 {_pct(err)}（按量加权）"
                + "".join(f"，{names[m]} 为 {_pct(e)}" for m, e in others))
        if others:
            text += f"；比次优少 {_pct(1 - err / others[0][1])} 的误差"
        text += "。" + ("" if stated else "这些模型都没有给出不确定区间。")
        return text
    text = (f"Goals: the {names[best]} model fits this team best: its rates were off by "
            f"{_pct(err)} of the rate reps then achieved (volume-weighted, over the "
            f"{HORIZON_DAYS} days after each date)"
            + (", against " + " and ".join(f"{_pct(e)} for {names[m]}" for m, e in others)
               if others else ""))
    if others:
        text += f"; {_pct(1 - err / others[0][1])} less error than the next best"
    return text + "." + ("" if stated else " No model states its uncertainty, so none "
                         "could be checked against it.")


def check_names(r: BacktestResult) -> dict[str, str]:
    """Each check's name as a manager reads it, in the language being spoken (as the run's
    report names them)."""
    return {b.name: b.component.shown_name() for b in r.plan.checks} if r.plan else {}


def warning_sentences(r: BacktestResult, zh: bool) -> list[str]:
    w = r.warnings
    shown = check_names(r)
    if not w.outcomes:
        return ["预警：回测日期所在的考核期都没有被导出数据完整覆盖，无法判断谁没完成。" if zh else
                "Early warnings: no replayed date falls in a period the export covers from "
                "start to end, so no one's end result could be judged."]
    out = []
    for (check, kind), t in sorted(w.tally.items()):
        who = ("团队" if kind == "team" else "销售") if zh else ("team" if kind == "team"
                                                                 else "rep")
        if not t.flagged:
            continue
        lead = sorted(t.leads)[len(t.leads) // 2] if t.leads else math.nan
        check = shown.get(check, check)
        if zh:
            out.append(f"预警：{check} 共标记 {t.flagged} 次{who}，其中 {_pct(t.precision)} "
                       f"最终没完成结果目标（精确率），抓到了 {_pct(t.recall)} 的未完成者"
                       f"（召回率）" + (f"，中位提前 {lead:.0f} 天。" if t.leads else "。"))
        else:
            out.append(f"Early warnings: {check} flagged a {who} {t.flagged} time(s); "
                       f"{_pct(t.precision)} of them then missed their result target "
                       f"(precision), and it caught {_pct(t.recall)} of the misses (recall)"
                       + (f", a median {lead:.0f} days before the period's end." if t.leads
                          else "."))
    quiet = sorted({c for (c, _), t in w.tally.items()} - {c for (c, _), t in w.tally.items()
                                                          if t.flagged})
    if quiet:
        out.append(("以下检查在可判断的日期上没有标记任何人：" if zh else
                    "These checks flagged no one on a date that could be judged: ")
                   + ("、" if zh else ", ").join(shown.get(c, c) for c in quiet)
                   + ("。" if zh else "."))
    return out


def metrics_sentences(r: BacktestResult, zh: bool) -> list[str]:
    corr = r.metrics.correlations()
    if not corr:
        return ["过程指标：没有日期之后有足够的数据来检验。" if zh else
                f"Metrics: no date had {FOLLOWING} days of data after it to test them on."]
    idle = r.metrics.idle()
    good = [s for s in corr if s not in idle]
    res = stage(r.metrics.result) if r.metrics.result else r.metrics.result
    fmt = {s: f"{stage(s)} (ρ {c.rho:.2f}, 95% {c.low:.2f}..{c.high:.2f})" for s, c in corr.items()}
    out = []
    if zh:
        if good:
            out.append(f"过程指标：{'、'.join(fmt[s] for s in good)} 能预测之后 {FOLLOWING} 天的"
                       f"{res}。")
        if idle:
            out.append(f"{'、'.join(fmt[s] for s in idle)} 预测不了结果：可以考虑不再追踪"
                       "（剔除虚假繁荣指标）。")
        return out
    if good:
        out.append(f"Metrics worth watching: a week of {', '.join(fmt[s] for s in good)} "
                   f"predicts a rep's {res} over the following {FOLLOWING} days.")
    if idle:
        out.append(f"Predict nothing reliable: {', '.join(fmt[s] for s in idle)}; "
                   "candidates to stop tracking.")
    return out


def raise_sentence(r: BacktestResult, zh: bool) -> str:
    n, k = r.raises.proposals, r.raises.reached
    if not n:
        return ("加目标：在可判断的考核期里没有加目标的建议。" if zh else
                "Raises: no goal-raise proposal in a period that could be judged.")
    if zh:
        return f"加目标：{n} 个加目标建议中有 {k} 个（{_pct(k / n)}）最终达到了建议的档位。"
    return f"Raises: {k} of {n} goal-raise proposals ({_pct(k / n)}) reached the proposed rung."


def allocation_sentences(r: BacktestResult, zh: bool) -> list[str]:
    a = r.allocation
    if not a.available:
        return ["分配：线索没有成交结果（赢单/输单与金额），无法衡量。" if zh else
                "Allocation: the leads carry no outcomes (won or lost, an amount), so the "
                "routes' results cannot be measured."]
    out = []
    for (kind, name), (n, won, revenue) in sorted(a.by.items()):
        if kind != "route":
            continue
        out.append(f"分配：规则「{name}」分出的 {n:.0f} 条有结果的线索中 {_pct(won / n)} 成交，"
                   f"业绩 {revenue:,.0f}。" if zh else
                   f"Allocation: of the {n:.0f} leads route {name!r} gave out that have an "
                   f"outcome, {_pct(won / n)} were won, for {revenue:,.0f} in revenue.")
    if not out:
        out.append("分配：重放出的分配中没有已知结果的线索。" if zh else
                   "Allocation: no lead the replay gave out has a known outcome yet.")
    if a.expected:
        ea, eb = a.expected.get("a", 0.0), a.expected.get("b", 0.0)
        out.append(f"按各销售的历史转化率估算：本规则 {ea:,.1f} 个预期成交，对比规则 {eb:,.1f} 个。"
                   "注意：这假设销售的转化率与分到的线索多少无关。" if zh else
                   f"Valued through each rep's conversion rate, these rules' assignments "
                   f"expect {ea:,.1f} conversions and {r.against}'s {eb:,.1f}. Caveat: "
                   f"{r.caveat}.")
    return out


def sentences(r: BacktestResult, language: str = "en") -> list[str]:
    """The summary in ``language``: check and stage names as a manager reads them there (a
    stage by its ``label`` in Chinese), as the run's report names them."""
    with speaking(language, {s.name: s.label for s in r.dataset.funnel.stages}):
        return _sentences(r, language == "zh")


def _sentences(r: BacktestResult, zh: bool) -> list[str]:
    head = (f"回测 {len(r.dates)} 个日期（{r.dates[0]} 至 {r.dates[-1]}）。" if zh else
            f"Backtest over {len(r.dates)} date(s), {r.dates[0]} to {r.dates[-1]}.") \
        if r.dates else ("没有回测日期。" if zh else "No date to replay.")
    return [head, *skipped_sentences(r, zh), goals_sentence(r, zh), *warning_sentences(r, zh),
            *metrics_sentences(r, zh), raise_sentence(r, zh), *allocation_sentences(r, zh)]


def skipped_sentences(r: BacktestResult, zh: bool) -> list[str]:
    """The dates not replayed because they fall before the activity begins."""
    if not r.skipped:
        return []
    first = r.dataset.activity.first_day()
    days = ("、" if zh else ", ").join(d.isoformat() for d in r.skipped)
    return [f"{len(r.skipped)} 个日期早于活动数据的开始（{first}），没有回测：{days}。" if zh else
            f"{len(r.skipped)} date(s) before the activity begins ({first}) were not "
            f"replayed: {days}."]


__all__ = ["MODELS", "sentences"]
