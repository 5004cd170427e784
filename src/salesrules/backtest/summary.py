"""The backtest's answers in plain sentences, in English or Chinese (``output.language``)."""

from __future__ import annotations

import math

from ..words import speaking, stage
from . import BacktestResult
from .goals_fit import HORIZON_DAYS, MODELS
from .metrics import FOLLOWING
from .warnings import Tally

MODEL_ZH = {"personal": "个人转化率", "team-rates": "团队转化率", "standard": "公司统一标准"}
MODEL_EN = {"personal": "personal", "team-rates": "team-rates",
            "standard": "one company standard"}


def _pct(x: float) -> str:
    return f"{x:.0%}" if not math.isnan(x) else "n/a"


def _share(k: float, n: float) -> str:
    """``k`` of ``n`` as a percentage that never reads as none or all when it is neither:
    1 of 212 is 0.5%, not 0%; 211 of 212 is 99.5%, not 100%."""
    if not n:
        return "n/a"
    x = k / n
    for digits in (0, 1, 2):
        text = f"{x:.{digits}%}"
        shown = float(text.rstrip("%")) / 100
        if (shown > 0 or not k) and (shown < 1 or k >= n):
            return text
    return "under 0.01%" if x < 0.5 else "over 99.99%"


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
        text += "。" + ("" if stated else "这些模型没有给出转化率的可能范围，"
                                          "因此没有衡量销售的实际值是否落在范围内。")
        return text
    text = (f"Goals: the {names[best]} model fits this team best: its rates were off by "
            f"{_pct(err)} of the rate reps then achieved (volume-weighted, over the "
            f"{HORIZON_DAYS} days after each date)"
            + (", against " + " and ".join(f"{_pct(e)} for {names[m]}" for m, e in others)
               if others else ""))
    if others:
        text += f"; {_pct(1 - err / others[0][1])} less error than the next best"
    return text + "." + ("" if stated else " The models give no range for their rates, so "
                         "whether reps landed inside it is not measured.")


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
    out = [_warning(shown.get(check, check), kind, t, zh)
           for (check, kind), t in sorted(w.tally.items()) if t.flagged]
    quiet = sorted({c for (c, _), t in w.tally.items()} - {c for (c, _), t in w.tally.items()
                                                          if t.flagged})
    if quiet:
        out.append(("以下检查在可判断的日期上没有标记任何人：" if zh else
                    "These checks flagged no one on a date that could be judged: ")
                   + ("、" if zh else ", ").join(shown.get(c, c) for c in quiet)
                   + ("。" if zh else "."))
    return out


def _warning(check: str, kind: str, t: Tally, zh: bool) -> str:
    """One check's flags: how many, how many came true, how many misses they caught and how
    early. A flag and a miss are each a rep (or team) on a replayed date."""
    lead = sorted(t.leads)[len(t.leads) // 2] if t.leads else math.nan
    if zh:
        who = "团队" if kind == "team" else "销售"
        caught = (f"按日期计共有 {t.missed:,} 个未完成，抓到了其中 {t.hits:,} 个"
                  f"（{_share(t.hits, t.missed)}，召回率）" if t.missed else "没有未完成者可抓")
        return (f"预警：{check} 共发出 {t.flagged:,} 个标记（每个是某一日期上的一个{who}），"
                f"其中 {t.hits:,} 个（{_share(t.hits, t.flagged)}）标记的{who}最终没完成结果目标"
                f"（精确率）；{caught}" + (f"；对这些{who}的首次标记中位提前 {lead:.0f} 天。"
                                          if t.leads else "。"))
    who, them = ("team", "a team that") if kind == "team" else ("rep", "a rep who")
    were = "was" if t.hits == 1 else "were"
    caught = (f"they caught {t.hits:,} of the {t.missed:,} misses ({_share(t.hits, t.missed)}, "
              f"recall; a miss, like a flag, is a {who} on a date)" if t.missed
              else "there was no miss to catch")
    return (f"Early warnings: {check} raised {_count(t.flagged, 'flag')} (a {who} on a date). "
            f"{t.hits:,} of them ({_share(t.hits, t.flagged)}) {were} on {them} then missed "
            f"{'its' if kind == 'team' else 'their'} result target (precision); {caught}"
            + (f"; the first flag on such a {who} came a median {lead:.0f} days before the "
               "period's end." if t.leads else "."))


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _and(items: list[str], zh: bool) -> str:
    if zh:
        return "、".join(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def metrics_sentences(r: BacktestResult, zh: bool) -> list[str]:
    corr = r.metrics.correlations()
    if not corr:
        return ["过程指标：没有日期之后有足够的数据来检验。" if zh else
                f"Metrics: no date had {FOLLOWING} days of data after it to test them on."]
    idle = r.metrics.idle()
    good = [s for s in corr if s not in idle]
    res = stage(r.metrics.result) if r.metrics.result else r.metrics.result
    fmt = ({s: f"{stage(s)}（秩相关 {c.rho:.2f}，很可能在 {c.low:.2f} 至 {c.high:.2f} 之间）"
            for s, c in corr.items()} if zh else
           {s: f"{stage(s)} (rank correlation {c.rho:.2f}, likely between {c.low:.2f} and "
               f"{c.high:.2f})" for s, c in corr.items()})
    shown = [_and([fmt[s] for s in group], zh) if group else "" for group in (good, idle)]
    out = []
    if zh:
        if good:
            out.append(f"过程指标：一名销售一周的{shown[0]}能预测其之后 {FOLLOWING} 天的{res}"
                       "（秩相关：1 为销售在两者上的排序完全一致，0 为毫无关联）。")
        out.append(f"{shown[1]}预测不了结果：可以考虑不再追踪（剔除虚假繁荣指标）。" if idle else
                   "其中没有虚假繁荣指标：全部继续追踪。")
        return out
    if good:
        out.append(f"Metrics worth watching: a rep's week of {shown[0]} "
                   f"{'predicts' if len(good) == 1 else 'each predict'} their {res} over the "
                   f"following {FOLLOWING} days (rank correlation: 1 = reps rank in the same "
                   "order on both, 0 = no link).")
    if idle:
        one = len(idle) == 1
        out.append(f"A week of {shown[1]} {'predicts' if one else 'predict'} nothing reliable: "
                   f"{'a candidate' if one else 'candidates'} to stop tracking (vanity "
                   f"metric{'' if one else 's'}).")
    else:
        out.append("None of them looks like a vanity metric: keep tracking all.")
    return out


def raise_sentence(r: BacktestResult, zh: bool) -> str:
    n, k = r.raises.proposals, r.raises.reached
    if not n:
        return ("加目标：在可判断的考核期里没有加目标的建议。" if zh else
                "Raises: no goal-raise proposal in a period that could be judged.")
    if zh:
        return (f"加目标：{n} 个加目标建议中有 {k} 个（{_share(k, n)}）最终达到了建议提高后的"
                "目标。")
    return (f"Raises: of {_count(n, 'proposal')} to raise a rep's goal, {k} ({_share(k, n)}) "
            "saw the rep reach the raised target it proposed.")


def _route(name: str, given: int, closed: list[float], zh: bool) -> str:
    """What became of the leads one route gave out: how many, how many have since closed (won
    or lost), the share of those won and of all it gave out."""
    n, won, revenue = closed
    if zh:
        if not n:
            return (f"分配：规则「{name}」共分出 {given:,} 条线索，"
                    "至今没有一条有结果（赢单或输单）。")
        if n == given:
            return (f"分配：规则「{name}」共分出 {given:,} 条线索，全部已有结果（赢单或输单）："
                    f"{_share(won, n)} 赢单，业绩 {revenue:,.0f}。")
        return (f"分配：规则「{name}」共分出 {given:,} 条线索；其中 {n:,.0f} 条已有结果（赢单或"
                f"输单），这些中 {_share(won, n)} 赢单（占全部分出线索的 {_share(won, given)}），"
                f"业绩 {revenue:,.0f}。")
    if not n:
        return (f"Allocation: route {name!r} gave out {_count(given, 'lead')}; none has closed "
                "(won or lost) yet.")
    if n == given:
        return (f"Allocation: route {name!r} gave out {_count(given, 'lead')}, all since closed "
                f"(won or lost): {_share(won, n)} were won, for {revenue:,.0f} in revenue.")
    return (f"Allocation: route {name!r} gave out {_count(given, 'lead')}; {n:,.0f} "
            f"{'has' if n == 1 else 'have'} since closed (won or lost), and {_share(won, n)} of "
            f"those were won ({_share(won, given)} of all it gave out), for {revenue:,.0f} in "
            "revenue.")


def allocation_sentences(r: BacktestResult, zh: bool) -> list[str]:
    a = r.allocation
    if not a.available:
        return ["分配：线索没有成交结果（赢单/输单与金额），无法衡量。" if zh else
                "Allocation: the leads carry no outcomes (won or lost, an amount), so the "
                "routes' results cannot be measured."]
    out = [_route(name, given, a.by.get((kind, name), [0.0, 0.0, 0.0]), zh)
           for (kind, name), given in sorted(a.given.items()) if kind == "route"]
    if not out:
        out.append("分配：重放的日期上没有分出任何线索。" if zh else
                   "Allocation: the replay gave out no lead on its dates.")
    if a.expected:
        ea, eb = a.expected.get("a", 0.0), a.expected.get("b", 0.0)
        na, nb = a.assigned.get("a", 0), a.assigned.get("b", 0)
        out.append(f"按各销售的历史转化率估算：本规则分出的 {na:,} 条线索预期 {ea:,.1f} 个成交，"
                   f"对比规则分出的 {nb:,} 条预期 {eb:,.1f} 个。注意：这假设销售的转化率与分到的"
                   "线索多少无关。" if zh else
                   f"Valued through each rep's historical conversion rate, the "
                   f"{_count(na, 'lead')} these rules gave out expect {ea:,.1f} conversions, "
                   f"and the {_count(nb, 'lead')} {r.against} gave out {eb:,.1f}. Caveat: "
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
