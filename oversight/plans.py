"""Loading a validated plan file into the database, idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlmodel import Session, select

from models import Phase, Plan, ProblemCategory, Task, TaskUnit, Unit, Zone, row_id, utcnow
from oversight.audit import audit
from oversight.dates import local_day
from oversight.errors import PlanError
from oversight.planfile import PlanSpec, content_hash

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
    if plan is None:
        plan = Plan(key=spec.key, name=spec.name, content_hash=digest)
    plan.name = spec.name
    plan.short_name = spec.short_name
    plan.level = spec.level
    plan.doc_no = spec.doc_no
    plan.issued_on = spec.issued_on
    plan.spec = spec.model_dump(mode="json")
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
        row.schedule = [s.model_dump(mode="json") for s in t.schedule]
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
    return PlanSpec.model_validate(plan.spec)
