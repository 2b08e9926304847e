"""Benchmark of the quarterly brief (not part of the test suite).

    .venv/bin/python bench/brief.py [--scale banner|region|both|N] [--repeat N] [--keep DIR]
                                    [--database-url postgresql+psycopg://...]

`--scale N` is the region N times over (N × its rights, reports, problems and hand-overs);
`--database-url` generates into that PostgreSQL database (emptied first!) instead of a
temporary SQLite file, one scale after the other.

Generates two databases into temporary SQLite files with bulk inserts:
- banner: the 乌拉特中旗 plan (its 154 rights in the six batches and 19 zones) with a year
  (2026) of activity; the brief is 2026Q4;
- region: the 内蒙古 2022 plan with its 2,685 rights, the 12 leagues and cities plus 7
  departments, and a year (2022) with ~50,000 reports, 5,000 problems and 15,000 hand-overs;
  the brief is 2022Q4.

For each scale, in the same run, measurements each in a fresh subprocess (so ru_maxrss
is that measurement's peak): the whole job as the worker runs it (jobs.brief.build_brief with
word=False: queries, chart, HTML, PDF, xlsx annex; the Word copy is written after the PDF preview
has gone out, timed apart as "word_after") and WeasyPrint alone (jobs.render.html_to_pdf) on the job's final HTML, in
a default process (the target's baseline) and, for reference, with the cycle collector off
as the job's PDF process runs it.
Wall time is of the call itself (imports excluded, the same for both); peak memory is the
process's maximum resident set plus that of the process it forks for the PDF (an upper bound:
pages shared after the fork are counted twice). Prints a table and the ratios against the targets:
the whole job ≤ 1.3 × WeasyPrint alone; peak ≤ 500 MB at region scale; region time
≤ (region data rows ÷ banner data rows) × banner time.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import col

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLANS = ROOT / "plans"
SCALES = {
    # plan file, year of activity, brief period, reports, problems, hand-overs
    "banner": ("urad-middle-banner.yaml", 2026, "2026Q4", 900, 150, 300),
    "region": ("inner-mongolia-2022.yaml", 2022, "2022Q4", 50_000, 5_000, 15_000),
}
ACTIVITY_TABLES = ("right", "rightbatch", "rightstatusevent", "report", "problem", "problemevent", "decision", "member")
TARGET_RATIO = 1.3


def scale_spec(scale: str) -> tuple[str, int, str, int, int, int, int]:
    """plan file, year, period, reports, problems, hand-overs, rights per unit of each task's target."""
    if scale in SCALES:
        return (*SCALES[scale], 1)
    n = int(scale.removeprefix("region×"))
    plan_file, year, period, reports, problems, handovers = SCALES["region"]
    return plan_file, year, period, reports * n, problems * n, handovers * n, n


def _scale_name(arg: str) -> str:
    if arg in SCALES or arg == "both":
        return arg
    if not arg.isdigit() or int(arg) < 1:
        raise argparse.ArgumentTypeError("banner, region, both or a whole multiple of the region")
    return f"region×{int(arg)}"


TARGET_PEAK_MB = 500
CHUNK = 20_000


# --- Generation (bulk inserts, deterministic) ----------------------------------------------------


def _moment(rng: random.Random, year: int) -> datetime:
    """A working-hours moment of `year` in Shanghai, as aware UTC."""
    day = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    return datetime(day.year, day.month, day.day, rng.randrange(8, 19), rng.randrange(60), tzinfo=SHANGHAI).astimezone(
        UTC
    )


def generate(scale: str, path: Path | None, *, url: str | None = None) -> dict[str, int]:
    """Create and fill the scale's database: an SQLite file at `path`, or the empty database at
    `url` (PostgreSQL, say); returns row counts of the activity tables."""
    from sqlalchemy import insert, select, text

    from models import (
        Decision,
        Meeting,
        Member,
        Problem,
        ProblemCategory,
        ProblemEvent,
        Report,
        Right,
        RightBatch,
        RightStatusEvent,
        Task,
        TaskUnit,
        Unit,
        Zone,
        ZoneLeader,
        make_engine,
        session_scope,
    )
    from models.migrate import upgrade
    from models.projection import rebuild
    from oversight.planfile import parse_plan_file
    from oversight.plans import load_plan

    plan_file, year, _period, n_reports, n_problems, n_handovers, per_target = scale_spec(scale)
    rng = random.Random(f"lianxi-bench-{scale}")
    url = url or f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as s:
        plan_id = load_plan(session=s, spec=parse_plan_file(PLANS / plan_file), actor="bench").plan.id
    with engine.begin() as conn:
        units = conn.execute(select(col(Unit.id), col(Unit.kind)).where(Unit.plan_id == plan_id)).all()
        unit_ids = [u for u, kind in units if kind != "government"]
        gov = next(u for u, kind in units if kind == "government")
        office = next((u for u, kind in units if kind == "office"), unit_ids[0])
        tasks = conn.execute(
            select(col(Task.id), col(Task.target), col(Task.done_status))
            .where(Task.plan_id == plan_id)
            .order_by(col(Task.seq))
        ).all()
        task_units = {
            t: [u for (u,) in conn.execute(select(col(TaskUnit.unit_id)).where(TaskUnit.task_id == t))]
            for t, _, _ in tasks
        }
        zones = conn.execute(
            select(col(Zone.id), col(Zone.planned_mining), col(Zone.planned_exploration))
            .where(Zone.plan_id == plan_id)
            .order_by(Zone.seq)
        ).all()
        categories = conn.execute(
            select(col(ProblemCategory.id), col(ProblemCategory.owner_unit_id), col(ProblemCategory.limit_days)).where(
                ProblemCategory.plan_id == plan_id
            )
        ).all()
        start = datetime(year - 1, 12, 1, tzinfo=UTC)

        # Members: a convener, two office members, three contacts per unit, zone leaders.
        members = [
            dict(
                plan_id=plan_id, telegram_user_id=10_000, name="召集人", unit_id=gov, role="convener", joined_at=start
            ),
            dict(
                plan_id=plan_id,
                telegram_user_id=10_001,
                name="办公室甲",
                unit_id=office,
                role="office",
                joined_at=start,
            ),
            dict(
                plan_id=plan_id,
                telegram_user_id=10_002,
                name="办公室乙",
                unit_id=office,
                role="office",
                joined_at=start,
            ),
        ]
        for i, u in enumerate(unit_ids):
            for k in range(3):
                members.append(
                    dict(
                        plan_id=plan_id,
                        telegram_user_id=11_000 + 3 * i + k,
                        name=f"联络员{u}-{k}",
                        unit_id=u,
                        role="contact",
                        joined_at=start,
                    )
                )
        for k in range(max(1, len(zones) // 4)):
            members.append(
                dict(
                    plan_id=plan_id,
                    telegram_user_id=12_000 + k,
                    name=f"包联领导{k + 1}",
                    unit_id=gov,
                    role="zone_leader",
                    joined_at=start,
                )
            )
        conn.execute(insert(Member), members)
        member_rows = conn.execute(
            select(col(Member.id), col(Member.unit_id), col(Member.role)).where(Member.plan_id == plan_id)
        ).all()
        contacts: dict[int, list[int]] = {}
        for mid, u, role in member_rows:
            if role == "contact":
                contacts.setdefault(u, []).append(mid)
        leaders = [mid for mid, _, role in member_rows if role == "zone_leader"]
        office_member = next(mid for mid, _, role in member_rows if role == "office")
        if zones:
            conn.execute(
                insert(ZoneLeader),
                [dict(zone_id=z[0], member_id=leaders[i % len(leaders)]) for i, z in enumerate(zones)],
            )

        # Rights: one per unit of each task's target; in zones for the first task of a zoned plan.
        rights, batches = [], []
        zone_slots = [z for z, m, e in zones for _ in range(m + e)]
        n = 0
        for seq, (task_id, target, _done) in enumerate(tasks):
            for k in range(target * per_target):
                n += 1
                zone_id = zone_slots[k] if seq == 0 and k < len(zone_slots) else None
                units_of_task = task_units[task_id] or unit_ids
                rights.append(
                    dict(
                        plan_id=plan_id,
                        code=f"R{n:05d}",
                        name=f"矿业权{n}号",
                        kind="mining" if k % 2 else "exploration",
                        zone_id=zone_id,
                        unit_id=units_of_task[k % len(units_of_task)],
                        status="baseline",
                        updated_at=start,
                    )
                )
        conn.execute(insert(Right), rights)
        right_rows = conn.execute(
            select(col(Right.id), col(Right.zone_id), col(Right.unit_id))
            .where(Right.plan_id == plan_id)
            .order_by(col(Right.id))
        ).all()
        i = 0
        right_task: dict[int, tuple[int, str]] = {}
        for task_id, target, done in tasks:
            for _ in range(target * per_target):
                rid = right_rows[i][0]
                batches.append(dict(right_id=rid, task_id=task_id))
                right_task[rid] = (task_id, done)
                i += 1
        conn.execute(insert(RightBatch), batches)

        # Reports through the year; a quarter of the rights completed (with a status event).
        reports = []
        for k in range(n_reports):
            u = rng.choice(unit_ids)
            who = rng.choice(contacts[u])
            right = rng.choice(right_rows) if rng.random() < 0.3 else None
            reports.append(
                dict(
                    plan_id=plan_id,
                    kind="progress",
                    member_id=who,
                    unit_id=u,
                    task_id=tasks[k % len(tasks)][0],
                    zone_id=right[1] if right else None,
                    right_id=right[0] if right else None,
                    text=f"第{k + 1}条进展：按计划推进手续办理，已完成现场核查。",
                    quantity=0,
                    created_at=_moment(rng, year),
                )
            )
        reports.sort(key=lambda r: r["created_at"])
        for i in range(0, len(reports), CHUNK):
            conn.execute(insert(Report), reports[i : i + CHUNK])
        events = []
        for rid, _zone, u in rng.sample(list(right_rows), len(right_rows) // 4):
            task_id, done = right_task[rid]
            events.append(
                dict(
                    right_id=rid,
                    task_id=task_id,
                    from_status="baseline",
                    to_status=done,
                    actor_member_id=rng.choice(contacts.get(u) or [office_member]),
                    reason="办理完成",
                    at=_moment(rng, year),
                )
            )
        conn.execute(insert(RightStatusEvent), events)

        # Problems with their events: raised, assigned, hand-overs (n_handovers in all), accept, resolve, confirm.
        handovers_left = n_handovers
        problems, pevents = [], []
        for k in range(n_problems):
            cat, cat_owner, limit = rng.choice(categories)
            raiser = rng.choice(unit_ids)
            owner = cat_owner or rng.choice(unit_ids)
            t = _moment(rng, year)
            steps: list[dict] = [
                dict(kind="raised", actor_unit_id=raiser, to_unit_id=None, at=t),
                dict(kind="assigned", actor_unit_id=raiser, to_unit_id=owner, at=t),
            ]
            passes = min(handovers_left, rng.choice((0, 1, 2, 3, 4, 5, 6)) if k < n_problems - 1 else handovers_left)
            handovers_left -= passes
            for _ in range(passes):
                t += timedelta(hours=rng.randrange(4, 96))
                nxt = rng.choice([u for u in unit_ids if u != owner])
                steps.append(dict(kind="handed_over", actor_unit_id=owner, from_unit_id=owner, to_unit_id=nxt, at=t))
                owner = nxt
            state, accepted_at, resolved_at, closed_at = "assigned", None, None, None
            if rng.random() < 0.85:
                t += timedelta(hours=rng.randrange(2, 200))
                steps.append(dict(kind="accepted", actor_unit_id=owner, to_unit_id=owner, at=t))
                state, accepted_at = "accepted", t
                if rng.random() < 0.7:
                    t += timedelta(days=rng.randrange(1, 40))
                    steps.append(dict(kind="resolved", actor_unit_id=owner, to_unit_id=owner, at=t))
                    state, resolved_at = "resolved", t
                    if rng.random() < 0.8:
                        t += timedelta(days=rng.randrange(1, 5))
                        steps.append(dict(kind="confirmed", actor_unit_id=raiser, to_unit_id=None, at=t))
                        state, closed_at = "closed", t
            problems.append(
                dict(
                    plan_id=plan_id,
                    text=f"问题{k + 1}：手续办理受阻，需协调。",
                    category_id=cat,
                    raised_by_unit_id=raiser,
                    raised_by_member_id=rng.choice(contacts[raiser]),
                    owner_unit_id=owner,
                    state=state,
                    due_on=(steps[0]["at"] + timedelta(days=limit * 7 // 5)).date(),
                    created_at=steps[0]["at"],
                    accepted_at=accepted_at,
                    resolved_at=resolved_at,
                    closed_at=closed_at,
                    last_action_at=t,
                )
            )
            pevents.append(steps)
        conn.execute(insert(Problem), problems)
        problem_ids = [
            pid
            for (pid,) in conn.execute(
                select(col(Problem.id)).where(Problem.plan_id == plan_id).order_by(col(Problem.id))
            )
        ]
        rows = []
        for pid, steps in zip(problem_ids, pevents, strict=True):
            for st in steps:
                rows.append(
                    dict(
                        problem_id=pid,
                        kind=st["kind"],
                        actor_unit_id=st["actor_unit_id"],
                        from_unit_id=st.get("from_unit_id"),
                        to_unit_id=st["to_unit_id"],
                        reason="不属于本单位职责" if st["kind"] == "handed_over" else "",
                        at=st["at"],
                    )
                )
        for i in range(0, len(rows), CHUNK):
            conn.execute(insert(ProblemEvent), rows[i : i + CHUNK])
        rebuild(conn)  # written past the domain: the projection the rules read, as the migration builds it

        # Quarterly meetings with decisions.
        for q, month in enumerate((1, 4, 7, 10), start=1):
            meeting_id = conn.execute(
                insert(Meeting).values(
                    plan_id=plan_id,
                    kind="quarterly",
                    period=f"{year}Q{q}",
                    held_on=date(year, month, 12),
                    title=f"{year}年第{q}次联席会议",
                    created_at=start,
                )
            ).inserted_primary_key[0]
            conn.execute(
                insert(Decision),
                [
                    dict(
                        plan_id=plan_id,
                        meeting_id=meeting_id,
                        text=f"议定事项{q}-{k + 1}：限期完成相关手续。",
                        owner_unit_id=rng.choice(unit_ids),
                        due_on=date(year, month, 12) + timedelta(days=60),
                        state="done" if k % 3 else "open",
                        done_at=datetime(year, month, 28, tzinfo=UTC) if k % 3 else None,
                        created_at=start,
                    )
                    for k in range(8)
                ],
            )
        counts = {t: conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in ACTIVITY_TABLES}
    engine.dispose()
    return counts


# --- Measurements (each in a fresh subprocess) ---------------------------------------------------


def _child(kind: str, db: str, period: str, out: str) -> None:
    """Run one measurement and print its JSON line."""
    import resource

    if kind == "job":
        from sqlmodel import select

        from jobs.brief import build_brief
        from models import Plan, make_engine, session_scope

        engine = make_engine(db)
        with session_scope(engine) as s:
            plan_id = s.exec(select(Plan.id)).first()
            t0 = time.perf_counter()
            result = build_brief(
                session=s, plan_id=plan_id, period=period, now=datetime.now(UTC), out_dir=Path(out), word=False
            )
            wall = time.perf_counter() - t0
        from jobs.word import html_to_docx

        t1 = time.perf_counter()
        html_to_docx(result.html, out=Path(out, "final.docx"))
        result.timings["word_after"] = time.perf_counter() - t1
        Path(out, "final.html").write_text(result.html, encoding="utf-8")
        extra = {"timings": result.timings, "pages": _pages(result.pdf_path)}
    else:
        import gc

        from jobs.render import html_to_pdf

        html = Path(out, "final.html").read_text(encoding="utf-8")
        if kind == "weasy-nogc":
            gc.disable()  # as the job's PDF process runs
        t0 = time.perf_counter()
        pdf = html_to_pdf(html)
        wall = time.perf_counter() - t0
        extra = {"bytes": len(pdf)}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    # The job forks a process for the PDF: its peak counts too. Adding the two peaks over-counts
    # (pages shared after the fork are in both), so this is an upper bound of the job's memory.
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "peak_mb": peak_mb + child_mb, "self_mb": peak_mb, "child_mb": child_mb, **extra}))


def _pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def _empty_postgresql(url: str) -> None:
    from sqlalchemy import text

    from models import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def measure(kind: str, db: str, period: str, out: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, db, period, str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} measurement failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=_scale_name, default="both", help="banner, region, both, or N: the region N times over"
    )
    parser.add_argument("--database-url", default="", help="a PostgreSQL URL (emptied first!); default: SQLite files")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per kind; the fastest is reported")
    parser.add_argument("--keep", type=Path, help="keep the databases and outputs in this directory")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    scales = ["banner", "region"] if args.scale == "both" else [args.scale]
    work = args.keep or Path(tempfile.mkdtemp(prefix="lianxi-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results = {}
    for scale in scales:
        if args.database_url:
            db = args.database_url
            _empty_postgresql(db)
        else:
            path = work / f"{scale}.db"
            path.unlink(missing_ok=True)
            db = f"sqlite:///{path}"
        t0 = time.perf_counter()
        counts = generate(scale, None, url=db)
        gen = time.perf_counter() - t0
        period = scale_spec(scale)[2]
        out = work / scale
        out.mkdir(exist_ok=True)
        # Alternating, so that both kinds see the same share of whatever else the machine runs
        # (the job uses both cores, so other load slows it more than WeasyPrint alone).
        jobs, weasy, nogc = [], [], []
        for _ in range(args.repeat):
            jobs.append(measure("job", db, period, out))
            weasy.append(measure("weasy", db, period, out))
            nogc.append(measure("weasy-nogc", db, period, out))
        job = min(jobs, key=lambda r: r["wall"])
        alone = min(weasy, key=lambda r: r["wall"])
        rows = sum(counts.values())
        results[scale] = {
            "rows": rows,
            "counts": counts,
            "gen": gen,
            "job": job,
            "weasy": alone,
            "nogc": min(nogc, key=lambda r: r["wall"]),
            "job_peak": max(r["peak_mb"] for r in jobs),
            "weasy_peak": max(r["peak_mb"] for r in weasy),
        }
        print(
            f"[{scale}] generated {rows:,} rows in {gen:.1f}s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
            flush=True,
        )
        print(
            f"[{scale}] job phases (fastest run): "
            + ", ".join(f"{k} {v:.2f}s" for k, v in job["timings"].items())
            + f"; {job['pages']} pages; "
            f"peak {job['self_mb']:.0f} MB + PDF process {job['child_mb']:.0f} MB",
            flush=True,
        )

    print()
    print(f"{'scale':<10}{'data rows':>11}{'job s':>9}{'weasy s':>9}{'job/weasy':>11}{'job MB':>9}{'weasy MB':>10}")
    for scale, r in results.items():
        ratio = r["job"]["wall"] / r["weasy"]["wall"]
        print(
            f"{scale:<10}{r['rows']:>11,}{r['job']['wall']:>9.2f}{r['weasy']['wall']:>9.2f}{ratio:>11.2f}"
            f"{r['job_peak']:>9.0f}{r['weasy_peak']:>10.0f}"
        )
    print()
    print("targets:")
    for scale, r in results.items():
        ratio = r["job"]["wall"] / r["weasy"]["wall"]
        print(
            f"  {scale}: whole job / WeasyPrint alone = {ratio:.2f} (target ≤ {TARGET_RATIO}) "
            f"{'OK' if ratio <= TARGET_RATIO else 'MISSED'}"
        )
    for scale in (s for s in results if s.startswith("region")):
        peak = results[scale]["job_peak"]
        print(
            f"  {scale}: peak memory of the whole job = {peak:.0f} MB (target ≤ {TARGET_PEAK_MB} MB) "
            f"{'OK' if peak <= TARGET_PEAK_MB else 'MISSED'}"
        )
    if {"banner", "region"} <= set(results):
        b, r = results["banner"], results["region"]
        size_ratio = r["rows"] / b["rows"]
        limit = size_ratio * b["job"]["wall"]
        print(
            f"  region time {r['job']['wall']:.2f}s vs (data ratio {size_ratio:.1f} × banner time "
            f"{b['job']['wall']:.2f}s) = {limit:.1f}s: ratio {r['job']['wall'] / limit:.3f} (target ≤ 1) "
            f"{'OK' if r['job']['wall'] <= limit else 'MISSED'}"
        )
    print()
    print("for reference, WeasyPrint alone with the cycle collector off, as the job's PDF process runs it")
    print("(the job's own cost around WeasyPrint, without that setting's gain):")
    for scale, r in results.items():
        print(
            f"  {scale}: {r['nogc']['wall']:.2f}s (default {r['weasy']['wall']:.2f}s); "
            f"whole job / that = {r['job']['wall'] / r['nogc']['wall']:.2f}"
        )
    print(f"\n(work files in {work})")


if __name__ == "__main__":
    main()
