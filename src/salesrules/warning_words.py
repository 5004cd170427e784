"""The run's warnings in the run's language (``output.language``): the terminal, ``run.json``'s
``warnings`` and the report's Warnings section all show the text said here.

A warning is said where it is found, inside the run's :func:`salesrules.words.speaking`
block, so it is one string from then on. Errors (exit 2) and plugin load problems stay
English: they are for whoever edits ``rules.toml`` or installs plugins.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .words import language, say, stage

WARNINGS: dict[str, dict[str, str]] = {
    "quarter": {"en": "quarter", "zh": "季度"}, "month": {"en": "month", "zh": "月度"},
    # goals
    "no-working-day": {"en": "the {grain} {start}..{end} has no working day",
                       "zh": "{grain} {start}..{end} 没有工作日"},
    "hired-after": {"en": "rep {rep} is hired on {hired}, after the {grain} {start}..{end}: "
                          "no targets",
                    "zh": "销售 {rep} 于 {hired} 入职，晚于{grain} {start}..{end}：不设目标"},
    "contradiction": {
        "en": "{where}: rep {rep}'s {stage} target {value} is below the {implied} that their "
              "{lowest} target {lowest_value} needs at their rates; the {stage} target is kept "
              "as given",
        "zh": "{where}：销售 {rep} 的{stage:stage}目标 {value} 低于按其转化率达成"
              "{lowest:stage}目标 {lowest_value} 所需的 {implied}；{stage:stage}目标按给定值保留"},
    "no-level": {"en": "{n} active rep(s) at level {level!r} have no level targets: add "
                       "[goals.levels.{level}] to rules.toml or give them goals-file targets",
                 "zh": "职级 {level!r} 的 {n} 名在职销售没有职级目标：请在 rules.toml 中添加 "
                       "[goals.levels.{level}]，或在目标文件中给出目标"},
    "team-empty": {"en": "{where}: team {team!r} has no active reps; target ignored",
                   "zh": "{where}：团队 {team!r} 没有在职销售；该目标被忽略"},
    "rep-inactive": {"en": "{where}: rep {rep!r} is not an active rep; target ignored",
                     "zh": "{where}：{rep!r} 不是在职销售；该目标被忽略"},
    "team-below-own": {
        "en": "{where}: team {team}'s {stage} target {amount:,.2f} is less than its members' "
              "own rows ({own:,.2f}); the others get 0",
        "zh": "{where}：团队{team}的{stage:stage}目标 {amount:,.2f} 少于成员单独目标之和"
              "（{own:,.2f}）；其他成员的目标为 0"},
    "unpublished": {
        "en": "goals.calendar.country: the holidays library ({version}) does not yet publish "
              "{country}'s {year} holiday schedule (it has it up to {last}): {year}'s make-up "
              "workdays (调休) and moved holidays are missing; list them in "
              "goals.calendar.holidays and workdays, or update the library",
        "zh": "goals.calendar.country：节假日库（{version}）尚未发布 {country} {year} 年的"
              "节假日安排（只到 {last} 年）：{year} 年的调休上班日和调整的假日缺失；请在 "
              "goals.calendar.holidays 和 goals.calendar.workdays 中列出，或更新该库"},
    # the as-of date against the activity
    "asof-before": {
        "en": "the as-of date {as_of} is before the activity begins ({first} .. {last}): "
              "every rep's progress reads as nothing done; check --as-of",
        "zh": "统计日期 {as_of} 早于活动数据的开始（{first} .. {last}）：每位销售的进度都会"
              "显示为零；请检查 --as-of"},
    "asof-after": {
        "en": "the as-of date {as_of} is after the activity ends ({first} .. {last}): working "
              "days up to {upto} have no activity in the export, so every rep reads as behind; "
              "check --as-of or the export",
        "zh": "统计日期 {as_of} 晚于活动数据的结束（{first} .. {last}）：截至 {upto} 的工作日"
              "在导出中没有活动，每位销售都会显示为落后；请检查 --as-of 或导出文件"},
    "period-idle": {
        "en": "the {grain} {start} .. {end} has no activity up to the as-of date {as_of} (the "
              "activity is {first} .. {last}): nothing done counts toward its targets; check "
              "--as-of or the export",
        "zh": "{grain} {start} .. {end} 截至统计日期 {as_of} 没有任何活动（活动数据为 "
              "{first} .. {last}）：没有完成量计入目标；请检查 --as-of 或导出文件"},
    "morning": {"en": "no activity on the as-of date {as_of} yet (a morning run): work is "
                      "expected up to the previous working day, {through}",
                "zh": "统计日期 {as_of} 还没有活动（早间运行）：工作量按截至上一个工作日 "
                      "{through} 计算"},
    # the export
    "unknown-activity": {"en": "activity for {n} rep id(s) not in the reps file is ignored: "
                               "{shown}",
                         "zh": "销售名单中没有的 {n} 个销售编号的活动被忽略：{shown}"},
    "unknown-leave": {"en": "leave for rep id(s) not in the reps file is ignored: {shown}",
                      "zh": "销售名单中没有的销售编号的请假记录被忽略：{shown}"},
    "idle": {"en": "{where}: {n} rep(s) have no activity or deals in the {days} days to {last}: "
                   "{shown}; {then}",
             "zh": "{where}：{n} 名销售在截至 {last} 的 {days} 天内没有活动或商机：{shown}；"
                   "{then}"},
    "idle.inactive": {"en": "they are marked inactive and given no leads",
                      "zh": "已标记为不活跃，不再分配线索"},
    "idle.active": {"en": "they still get leads (params.idle_inactive = true stops that)",
                    "zh": "仍会分配线索（设置 params.idle_inactive = true 可停止）"},
    "no-column": {"en": "{where}: no column for stage(s) {stages}; counted as 0 (map them under "
                        "columns if the file has them)",
                  "zh": "{where}：没有阶段 {stages} 的列，按 0 计（如文件中有，请在 columns 下"
                        "映射）"},
    # deals
    "deal-stage": {"en": "{where}: {n} deal(s) at stage {stage!r}, which no stage mapping names, "
                         "are not counted{hint} (map it under params.stages)",
                   "zh": "{where}：{n} 个商机处于阶段 {stage!r}，没有阶段映射提到它，未计入{hint}"
                         "（请在 params.stages 下映射）"},
    "leads-when-none": {
        "en": "{where}: params.leads_when matched none of the {n} open deal(s) without an "
              "owner, at stages {stages}: no deal becomes a lead to allocate; check the "
              "condition's spelling (values compare exactly, case included)",
        "zh": "{where}：params.leads_when 没有匹配到 {n} 个无负责人的未结商机中的任何一个"
              "（阶段 {stages}），没有线索可分配；请检查条件的写法（取值须完全一致，包括大小写）"},
    "deal-stage.near": {"en": "; closest known stage: {near!r}",
                        "zh": "；最接近的已知阶段：{near!r}"},
    "near": {"en": "; closest known: {near!r}", "zh": "；最接近的已知值：{near!r}"},
    "deal-value": {"en": "{where}: {field} {value!r} ({n} deal(s)) is not a known {field}{hint}",
                   "zh": "{where}：{field} {value!r}（{n} 个商机）不是已知的 {field}{hint}"},
    "deal-preset": {"en": "{where}: info: the funnel has no stage {missing!r} of preset "
                          "{preset!r}, so deals at {values} count down to {to!r}",
                    "zh": "{where}：提示：漏斗中没有预设 {preset!r} 的阶段 {missing!r}，"
                          "所以处于 {values} 的商机按 {to!r} 计"},
    "deal-open": {"en": "{where}: deal {deal!r} is open ({stage!r}) but has a close date "
                        "({close}); it counts as open",
                  "zh": "{where}：商机 {deal!r} 未结束（{stage!r}）却有结束日期（{close}）；"
                        "按未结束计"},
    "deal-undated": {"en": "{where}: info: {n} deal(s) have no {column!r} date, so they do not "
                           "count in {stage!r} (dated by it; params.dates)",
                     "zh": "{where}：提示：{n} 个商机没有 {column!r} 日期，因此不计入 {stage!r}"
                           "（该阶段按此日期计；见 params.dates）"},
    "deal-reps": {"en": "{where}: no reps file, so {n} rep(s) were made from the deal owners, "
                        "all in team {team!r} at level {level!r}; add a [data.reps] file to "
                        "give them their teams, levels and caps",
                  "zh": "{where}：没有销售名单，因此按商机负责人建立了 {n} 名销售，都在团队 "
                        "{team!r}、职级 {level!r}；请添加 [data.reps] 文件给出他们的团队、"
                        "职级和上限"},
    "deal-owner": {"en": "{where}: deal owner {owner!r} ({n} deal(s)) is not in the reps "
                         "file{hint}; those deals count for no one",
                   "zh": "{where}：商机负责人 {owner!r}（{n} 个商机）不在销售名单中{hint}；"
                         "这些商机不计入任何人"},
    # the run
    "parallel": {"en": "output.parallel is deprecated and ignored (outputs are written in one "
                       "process): remove it from rules.toml",
                 "zh": "output.parallel 已弃用并被忽略（输出在一个进程中写出）：请从 rules.toml "
                       "中删除"},
    "dry-run": {"en": "dry run: run history was read but not changed",
                "zh": "试运行：已读取运行历史，但没有修改"},
    "redo-day": {"en": "--redo-day: replaces the {before:,} assignment(s) of earlier runs on "
                       "{as_of}; {changed:,} change ({moved:,} to another rep, {dropped:,} no "
                       "longer assigned, {added:,} newly assigned)",
                 "zh": "--redo-day：替换 {as_of} 之前各次运行的 {before:,} 条分配；{changed:,} "
                       "条有变化（{moved:,} 条改派给其他销售，{dropped:,} 条不再分配，"
                       "{added:,} 条新分配）"},
    "crm": {"en": "{file}: {n} rep(s) without a CRM user in the reps file's {field!r} column: "
                  "{shown}; their {left_out} assignment(s) are left out of {file} (assign them "
                  "in the CRM by hand, or fill in the column)",
            "zh": "{file}：{n} 名销售在销售名单的 {field!r} 列中没有 CRM 用户：{shown}；"
                  "他们的 {left_out} 条分配没有写入 {file}（请在 CRM 中手动分配，或填写该列）"},
    "prefix": {"en": "warning:", "zh": "提示："},
}


def warning(key: str, /, **fields: Any) -> str:
    """The warning ``key`` in the run's language, fields filled in."""
    return say(key, WARNINGS, **fields)


def grain(name: str) -> str:
    """A period's grain (``quarter``, ``month``) as said in a warning."""
    return warning(name) if name in WARNINGS else name


def stages(names: Iterable[str]) -> str:
    """Funnel stages listed: ``dials, connects`` in English, by their labels in Chinese."""
    return ("、" if language() == "zh" else ", ").join(stage(n) for n in names)
