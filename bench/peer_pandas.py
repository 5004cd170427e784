"""The pandas peer: the core of a salesrules run, written the way an analyst would in pandas.

It reads reps, activity and leads; sums activity per rep; sets quarter
targets from the level's revenue target and the team's funnel rates, each
shrunk toward the team by how much history the rep has; splits them evenly
over the quarter's working days; recycles stale leads; and gives each
unowned lead to the least-loaded rep that still has room today. It writes
``targets.csv`` (one row per rep and working day) and ``assignments.csv``.

This is the yardstick ``bench_run.py`` holds the kernel run against: plain,
readable pandas, neither golfed nor deliberately slow.

    python bench/peer_pandas.py DATA_DIR OUT_DIR [--lookback-days 180] [--recycle-days 7]
"""

from __future__ import annotations

import argparse
import heapq
from pathlib import Path

import pandas as pd

LEVEL_REVENUE = {"P1": 60000, "P2": 90000, "P3": 120000}
STAGES = ["dials", "connects", "conversations", "intents", "pipeline", "revenue"]
#: Days of history at which a rep's own rate and the team's weigh the same.
PRIOR_DAYS = 30


def read(data: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    reps = pd.read_csv(data / "reps.csv", encoding="utf-8-sig", dtype={"rep_id": str})
    activity = pd.read_csv(data / "activity.csv", parse_dates=["date"])
    leads = pd.read_csv(data / "leads.csv", dtype={"owner": str, "phone": str},
                        parse_dates=["created_at", "assigned_at", "last_contact"])
    reps["active"] = reps["active"].astype(str).str.lower().isin(["yes", "true", "1", "y"])
    return reps, activity, leads


def rep_rates(reps: pd.DataFrame, activity: pd.DataFrame, since: pd.Timestamp) -> pd.DataFrame:
    """Each rep's stage-to-stage rates: their own, pulled toward their team's."""
    recent = activity[activity["date"] > since]
    per_rep = recent.groupby("rep_id")[STAGES].sum()
    per_rep["days"] = recent.groupby("rep_id")["date"].nunique()
    per_rep = reps[["rep_id", "team", "level"]].merge(per_rep, left_on="rep_id",
                                                     right_index=True, how="left").fillna(0)
    per_team = per_rep.groupby("team")[STAGES].sum()
    weight = per_rep["days"] / (per_rep["days"] + PRIOR_DAYS)
    for upper, lower in zip(STAGES, STAGES[1:]):
        team_rate = (per_team[lower] / per_team[upper]).rename("team_rate")
        team_rate = per_rep["team"].map(team_rate)
        own = (per_rep[lower] / per_rep[upper]).where(per_rep[upper] > 0, team_rate)
        per_rep["rate_" + lower] = weight * own + (1 - weight) * team_rate
    return per_rep


def quarter_targets(per_rep: pd.DataFrame) -> pd.DataFrame:
    """Quarter targets for every stage, walking the funnel back from the revenue target."""
    targets = per_rep[["rep_id", "team"]].copy()
    targets["revenue"] = per_rep["level"].map(LEVEL_REVENUE).fillna(0)
    for upper, lower in reversed(list(zip(STAGES, STAGES[1:]))):
        targets[upper] = targets[lower] / per_rep["rate_" + lower]
    return targets


def day_targets(targets: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The quarter's targets split evenly over its working days (Monday to Friday)."""
    quarter = as_of.to_period("Q")
    days = pd.bdate_range(quarter.start_time, quarter.end_time.normalize())
    rows = targets.merge(pd.DataFrame({"date": days}), how="cross")
    rows[STAGES] = rows[STAGES] / len(days)
    rows["date"] = rows["date"].dt.strftime("%Y-%m-%d")
    return rows[["rep_id", "team", "date", *STAGES]].round(2)


def recycle(leads: pd.DataFrame, reps: pd.DataFrame, as_of: pd.Timestamp,
            after_days: int) -> pd.DataFrame:
    """Clear the owner of leads an inactive or unknown rep holds, or nobody followed up in time."""
    active = set(reps.loc[reps["active"], "rep_id"])
    leads["previous_owner"] = ""
    stale = (leads["owner"].notna()
             & ((as_of - leads["assigned_at"]).dt.days > after_days)
             & (leads["last_contact"].isna() | (leads["last_contact"] < leads["assigned_at"])))
    leads.loc[stale, "previous_owner"] = leads.loc[stale, "owner"]
    leads.loc[stale | ~leads["owner"].isin(active), "owner"] = None
    return leads


def allocate(leads: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Each unowned lead, best first, to the active rep holding fewest leads who has room today."""
    active = reps[reps["active"]]
    load = leads["owner"].value_counts()
    room = dict(zip(active["rep_id"], active["capacity"]))
    heap = [(int(load.get(rep, 0)), rep) for rep in active["rep_id"]]
    heapq.heapify(heap)
    pool = leads[leads["owner"].isna()].sort_values(
        ["priority", "value", "created_at", "lead_id"], ascending=[False, False, True, True])
    given = []
    for lead_id, previous in zip(pool["lead_id"], pool["previous_owner"]):
        skipped = []
        while heap and (room[heap[0][1]] <= 0 or heap[0][1] == previous):
            held, rep = heapq.heappop(heap)
            if room[rep] > 0:
                skipped.append((held, rep))
        if not heap:
            if not skipped:
                break
            for item in skipped:
                heapq.heappush(heap, item)
            continue
        held, rep = heapq.heappop(heap)
        given.append((lead_id, rep))
        room[rep] -= 1
        heapq.heappush(heap, (held + 1, rep))
        for item in skipped:
            heapq.heappush(heap, item)
    return pd.DataFrame(given, columns=["lead_id", "rep_id"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--lookback-days", type=int, default=180)
    ap.add_argument("--recycle-days", type=int, default=7)
    args = ap.parse_args()
    reps, activity, leads = read(args.data)
    as_of = activity["date"].max()
    per_rep = rep_rates(reps, activity, as_of - pd.Timedelta(days=args.lookback_days))
    targets = day_targets(quarter_targets(per_rep), as_of)
    assignments = allocate(recycle(leads, reps, as_of, args.recycle_days), reps)
    args.out.mkdir(parents=True, exist_ok=True)
    targets.to_csv(args.out / "targets.csv", index=False)
    assignments.to_csv(args.out / "assignments.csv", index=False)
    print(f"{len(targets)} target rows, {len(assignments)} leads assigned, "
          f"{len(leads) - len(assignments) - leads['owner'].notna().sum()} left unassigned")


if __name__ == "__main__":
    main()
