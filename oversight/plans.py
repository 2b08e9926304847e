"""Loading a validated plan file into the database, idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlmodel import Session, select

from models import Phase, Plan, ProblemCategory, Task, TaskUnit, Unit, Zone, row_id, utcnow
from oversight.audit import audit
from oversight.dates import cn_date, local_day
from oversight.errors import InvalidInputError, PlanError, PlanMissingError
from oversight.planfile import PlanFileError, PlanSpec, ScheduleItem, TargetSpec, TaskSpec, content_hash, reconcile
from oversight.sample import SPEC_KEY, with_sample_mark
from oversight.timelines import target_points, task_points

TASK_PARTS = ("lead", "cooperating", "responsible")


@dataclass(frozen=True)
class LoadResult:
    plan: Plan
    created: bool
    changed: bool


def load_plan(*, session: Session, spec: PlanSpec, actor: str) -> LoadResult:
    """Create or update the plan from `spec`; the same spec twice changes nothing."""
    digest = content_hash(spec)
    plan = session.exec(select(Plan).where(Plan.key == spec.key)).first()
    if plan is not None and plan.content_hash == digest:
        return LoadResult(plan=plan, created=False, changed=False)
    created = plan is None
    if plan is not None:
        spec = _keep_admin_milestones(plan_spec(plan), spec)
    if plan is None:
        plan = Plan(key=spec.key, name=spec.name, content_hash=digest)
    plan.name = spec.name
    plan.short_name = spec.short_name
    plan.level = spec.level
    plan.doc_no = spec.doc_no
    plan.issued_on = spec.issued_on
    plan.spec = with_sample_mark(plan, spec.model_dump(mode="json"))
    plan.content_hash = digest
    plan.loaded_at = utcnow()
    if spec.tracking_since is not None:
        plan.tracking_since = spec.tracking_since
    elif plan.tracking_since is None:
        plan.tracking_since = local_day(plan.loaded_at)
    session.add(plan)
    session.flush()
    assert plan.id is not None
    units = _sync_units(session, plan.id, spec)
    _sync_categories(session, plan.id, spec, units)
    _sync_phases(session, plan.id, spec)
    _sync_tasks(session, plan.id, spec, units)
    _sync_zones(session, plan.id, spec)
    audit(
        session=session,
        actor=actor,
        action="plan.loaded" if created else "plan.updated",
        object_type="plan",
        object_id=plan.id,
        detail={"key": spec.key, "hash": digest, "tracking_since": plan.tracking_since.isoformat()},
    )
    return LoadResult(plan=plan, created=created, changed=True)


_Keyed = TypeVar("_Keyed", Unit, ProblemCategory, Phase, Task)


def _by_key(session: Session, model: type[_Keyed], plan_id: int) -> dict[str, _Keyed]:
    rows = session.exec(select(model).where(model.plan_id == plan_id)).all()
    return {row.key: row for row in rows}


def _sync_units(session: Session, plan_id: int, spec: PlanSpec) -> dict[str, Unit]:
    existing = _by_key(session, Unit, plan_id)
    wanted = {u.key for u in spec.units}
    stale = set(existing) - wanted
    if stale:
        raise PlanError(f"计划文件删除了已有单位 {', '.join(sorted(stale))}；单位一经加载不能删除，请保留或改名。")
    result: dict[str, Unit] = {}
    for u in spec.units:
        row = existing.get(u.key) or Unit(plan_id=plan_id, key=u.key, name=u.name)
        row.name, row.short, row.kind, row.duties = u.name, u.short, u.kind, list(u.duties)
        session.add(row)
        result[u.key] = row
    session.flush()
    return result


def _sync_categories(session: Session, plan_id: int, spec: PlanSpec, units: dict[str, Unit]) -> None:
    existing = _by_key(session, ProblemCategory, plan_id)
    for c in spec.categories:
        row = existing.get(c.key) or ProblemCategory(plan_id=plan_id, key=c.key, name=c.name)
        row.name = c.name
        row.owner_unit_id = units[c.owner].id if c.owner else None
        row.limit_days = c.limit_days
        row.group = c.group
        session.add(row)


def _sync_phases(session: Session, plan_id: int, spec: PlanSpec) -> None:
    existing = _by_key(session, Phase, plan_id)
    for p in spec.phases:
        row = existing.get(p.key) or Phase(plan_id=plan_id, key=p.key, name=p.name, end=p.end)
        row.name, row.start, row.end = p.name, p.start, p.end
        session.add(row)


def _sync_tasks(session: Session, plan_id: int, spec: PlanSpec, units: dict[str, Unit]) -> None:
    existing = _by_key(session, Task, plan_id)
    for t in spec.tasks:
        row = existing.get(t.key) or Task(plan_id=plan_id, key=t.key, seq=t.seq, name=t.name, target=t.target)
        row.seq, row.name, row.target, row.measure = t.seq, t.name, t.target, t.measure
        row.done_status = t.done_status
        row.phase, row.deadline = t.phase, t.deadline
        row.breakdown = [b.model_dump(mode="json") for b in t.breakdown]
        row.schedule = task_points(spec, t)
        session.add(row)
        session.flush()
        wanted = {(row_id(units[k]), part) for part in TASK_PARTS for k in getattr(t, part)}
        have = {
            (tu.unit_id, tu.part): tu for tu in session.exec(select(TaskUnit).where(TaskUnit.task_id == row.id)).all()
        }
        for key, tu in have.items():
            if key not in wanted:
                session.delete(tu)
        for unit_id, part in wanted - set(have):
            session.add(TaskUnit(task_id=row_id(row), unit_id=unit_id, part=part))


def _sync_zones(session: Session, plan_id: int, spec: PlanSpec) -> None:
    existing = {z.seq: z for z in session.exec(select(Zone).where(Zone.plan_id == plan_id)).all()}
    for z in spec.zones:
        row = existing.get(z.seq) or Zone(plan_id=plan_id, seq=z.seq, name=z.name)
        row.name, row.minerals = z.name, list(z.minerals)
        row.planned_mining, row.planned_exploration = z.mining, z.exploration
        row.planned_deep, row.planned_proposed = z.deep, z.proposed
        session.add(row)


def plan_spec(plan: Plan) -> PlanSpec:
    """The validated spec stored with a loaded plan."""
    # The demo's and sandbox's sample mark (oversight.sample) is stored beside the file's fields.
    return PlanSpec.model_validate({k: v for k, v in (plan.spec or {}).items() if k != SPEC_KEY})


def office_name(plan: Plan | None) -> str:
    """The joint meeting office's name as its documents are signed and issued (the plan file's
    office.name, e.g. 乌拉特中旗非煤矿山资源整合、增储上产工作联席会议办公室), whichever unit hosts it."""
    return (((plan.spec if plan else None) or {}).get("office") or {}).get("name") or "联席会议办公室"


# --- Milestones an administrator sets ------------------------------------------------------

MILESTONES_MAX = 24


def _keep_admin_milestones(stored: PlanSpec, incoming: PlanSpec) -> PlanSpec:
    """The incoming file's spec, with the milestones set on the loaded plan kept for every task
    and target the file gives none (the file wins where it names its own)."""
    spec = incoming.model_copy(deep=True)
    for task in spec.tasks:
        old_task = stored.task(task.key)
        if not task.milestones and old_task is not None and old_task.milestones:
            task.milestones = [m.model_copy() for m in old_task.milestones]
    for target in spec.targets:
        old_target = stored.target(target.key)
        if not target.milestones and old_target is not None and old_target.milestones:
            target.milestones = [m.model_copy() for m in old_target.milestones]
    return spec


def set_milestones(
    *,
    session: Session,
    plan_id: int,
    key: str,
    milestones: list[tuple[date, float]],
    actor: str,
    of_target: bool = False,
) -> list[dict[str, Any]]:
    """Set (or, with an empty list, clear) the milestones of the task `key` (of the plan-level
    target `key` with `of_target`; seed 000 has a task and a target both called restart): cumulative
    shares due by dates, checked against its timeline like a plan file's. Returns the timeline.

    They are kept when the plan file is loaded again unless the file names milestones of its own.
    """
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanMissingError()
    if len(milestones) > MILESTONES_MAX:
        raise InvalidInputError(f"进度节点最多{MILESTONES_MAX}个（现为{len(milestones)}个）。")
    spec = plan_spec(plan)
    task = None if of_target else spec.task(key)
    target = spec.target(key) if of_target else None
    item: TaskSpec | TargetSpec | None = task or target
    if item is None:
        what, keys = ("目标", spec.targets) if of_target else ("任务", spec.tasks)
        raise InvalidInputError(f"计划中没有{what} {key!r}。可选：{'、'.join(t.key for t in keys)}")
    for day, share in milestones:
        if not 0 <= share <= 1:
            raise InvalidInputError(f"{cn_date(day)}的进度比例{share:g}应在0到1之间。")
    item.milestones = [ScheduleItem(by=day, share=share) for day, share in sorted(milestones)]
    try:
        reconcile(spec)
    except PlanFileError as exc:
        raise InvalidInputError(f"进度节点未通过校验：{exc.message}") from exc
    plan.spec = with_sample_mark(plan, spec.model_dump(mode="json"))  # content_hash stays the file's
    session.add(plan)
    timeline = task_points(spec, task) if task is not None else target_points(spec, target)  # type: ignore[arg-type]  # one of them is set: item is not None
    if task is not None:
        row = session.exec(select(Task).where(Task.plan_id == plan_id, Task.key == key)).one()
        row.schedule = timeline
        session.add(row)
    audit(
        session=session,
        actor=actor,
        action="plan.milestones_set",
        object_type="plan",
        object_id=plan_id,
        detail={
            "key": key,
            "target": of_target,
            "milestones": [{"by": d.isoformat(), "share": s} for d, s in sorted(milestones)],
        },
    )
    return timeline
