"""Plan files: the schema of a bundled plan (方案), its parser and its reconciliation.

Pure: imports only pydantic, yaml and the standard library. The database loader reads a
`PlanSpec` produced here; nothing in this module touches the database.

A plan file is refused unless every total the source document implies adds up
(`reconcile`). Errors are `PlanFileError` with the path of the offending field and a
Chinese message, so an administrator can fix the file without reading Python.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal, NoReturn

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from oversight.dates import cn_date

__all__ = [
    "DEFAULT_REVIEW_WEIGHTS",
    "DEFAULT_THRESHOLDS",
    "BreakdownItem",
    "CategorySpec",
    "ConvenerSpec",
    "MeetingSpec",
    "OfficeSpec",
    "PhaseSpec",
    "PlanFileError",
    "PlanSpec",
    "RectificationSpec",
    "ScheduleItem",
    "SupervisionSpec",
    "TargetSpec",
    "TaskSpec",
    "UnitSpec",
    "ZoneSpec",
    "content_hash",
    "parse_plan_file",
    "parse_plan_text",
    "plan_show_json",
    "plan_show_text",
    "reconcile",
]

UNIT_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
PLAN_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

# Accountability defaults; a plan file may override any of them.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "behind_points": 20,  # percentage points behind the expected schedule share
    "missed_weekly_reports": 2,
    "overdue_items": 2,
    "resolved_share": 0.5,
    "median_accept_days": 5,
    "idle_days": 10,
    "pass_on_count": 3,  # a problem passed on this many times with nobody accepting it
    "explanation_days": 5,
    "recheck_days": 90,  # 回头看 after a rectification is done
    "reopen_window_days": 90,
    # From this day of the year (month, day) on, admins are told each week while next year's
    # holidays are not in the calendar (the State Council publishes them about November).
    "calendar_notice_month": 11,
    "calendar_notice_day": 15,
}

# 工作问效 indicator weights (seed 000 五(四): 多维度问效指标体系); they must sum to 100.
DEFAULT_REVIEW_WEIGHTS: dict[str, float] = {
    "reporting": 15,
    "progress": 35,
    "response": 20,
    "resolution": 20,
    "shifting": 10,
}

DoneStatus = Literal["consolidated", "closed", "upgraded", "granted", "converted", "restarted", "activated", "explored"]


class PlanFileError(Exception):
    """A plan file that cannot be used; `field` is the path, `message` the Chinese reason."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        # A whole-file problem (<file>, <yaml>, <root>) is the message alone: the markers are not words.
        super().__init__(message if field.startswith("<") else f"字段 {shown_path(field)}：{message}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True)


class OfficeSpec(_Model):
    unit: str
    name: str
    # The brief's masthead; lines separated by "\n" (a YAML list of lines is accepted too).
    brief_title: str
    notice_prefix: str
    # Who signs a brief off (签发): the convener after the office's approval, or the office alone.
    brief_signoff: Literal["convener", "office"] = "convener"
    # 督办 in three colours (oversight/supervision.py): blue when due within this many working days,
    # red when overdue by more than `supervision_red_days`; the order's number 乌中联办督〔2026〕N号.
    supervision_blue_days: int = Field(default=3, ge=1, le=30)
    supervision_red_days: int = Field(default=10, ge=1, le=60)
    supervision_prefix: str = ""  # default: notice_prefix with its last character 通 as 督

    @field_validator("brief_title", mode="before")
    @classmethod
    def _join_lines(cls, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(str(v).strip() for v in value)
        return value

    @property
    def brief_title_lines(self) -> list[str]:
        return [line.strip() for line in self.brief_title.split("\n") if line.strip()]


class ScheduleItem(_Model):
    """A milestone: the cumulative share of the task or target due by `by`."""

    by: date
    share: float = Field(ge=0, le=1)


class TargetSpec(_Model):
    key: str
    name: str
    value: int | float
    unit: str
    kind: Literal["reduce", "max", "min", "min_ratio", "count"]
    # The timeline (oversight/timelines.py): from `start` (else the plan's issue date) to
    # `deadline`, linear unless milestones are set.
    start: date | None = None
    deadline: date | None = None
    milestones: list[ScheduleItem] = Field(default_factory=list)


class UnitSpec(_Model):
    key: str
    # The unit as documents name it when it acts: 旗林草局, 属地苏木镇政府. A body the seed names
    # collectively (属地各苏木镇政府) is one member unit here, named without 各: its contacts report
    # for it, and 各 would claim every township, which no record shows.
    name: str
    short: str
    kind: Literal["government", "office", "department", "league", "township", "other"]
    duties: list[str] = Field(default_factory=list)
    # Other names it goes by, the seed's among them: found where a name is typed or imported (a
    # ledger's 责任单位), never printed. A file without the key has none.
    aliases: list[str] = Field(default_factory=list)


class CategorySpec(_Model):
    key: str
    name: str
    owner: str
    limit_days: int = Field(ge=1, le=250)
    group: Literal["paperwork", "enterprise", "market", "construction", "other"]
    # When true, the unit responsible for the right's locality (league/city, township) owns
    # the problem; `owner` is who coordinates it when the locality is not known.
    local: bool = False
    # A different owner for one sector, e.g. coal safety licences go to 能源局 (seed 003 (一)).
    owner_by_sector: dict[str, str] = Field(default_factory=dict)
    # True where the plan document's own list of duties (seed 000 四、各部门具体职责) gives this
    # category's work to its owner (and to each sector's owner): its problems are then routed
    # 按职责分工. Otherwise the plan file adds the owner (用地 → 自然资源局, the enterprise reasons
    # → the office) and the routing says only who handles it, 用地事项由旗自然资源局办理, claiming no
    # basis. A plan file without the key claims none.
    duty_from_plan: bool = False


class PhaseSpec(_Model):
    key: str
    name: str
    start: date | None = None
    end: date


class BreakdownItem(_Model):
    key: str
    name: str
    count: int = Field(ge=0)


class TaskSpec(_Model):
    key: str
    seq: int = Field(ge=1)
    name: str
    target: int = Field(ge=0)
    measure: str
    subject: Literal["mining", "exploration", "rights", "zones", "mines"]
    right_kinds: list[Literal["mining", "exploration"]] = Field(default_factory=list)
    done_status: DoneStatus
    sector: Literal["coal", "noncoal"] | None = None
    lead: list[str] = Field(default_factory=list)
    cooperating: list[str] = Field(default_factory=list)
    responsible: list[str] = Field(default_factory=list)
    implementer: str | None = None
    breakdown: list[BreakdownItem] = Field(default_factory=list)
    zones_count: int | None = Field(default=None, ge=0)
    mining: int | None = Field(default=None, ge=0)
    exploration: int | None = Field(default=None, ge=0)
    minerals_count: int | None = Field(default=None, ge=0)
    phase: str | None = None
    # The timeline (oversight/timelines.py): from `start` (else the phase's start, else the
    # plan's issue date) to `deadline`, linear unless an administrator sets milestones.
    start: date | None = None
    deadline: date | None = None
    milestones: list[ScheduleItem] = Field(default_factory=list)

    @property
    def all_units(self) -> list[str]:
        """Lead, cooperating and responsible unit keys, in that order, without repeats."""
        return list(dict.fromkeys([*self.lead, *self.cooperating, *self.responsible]))


class ZoneSpec(_Model):
    seq: int = Field(ge=1)
    name: str
    minerals: list[str] = Field(default_factory=list)
    mining: int = Field(ge=0)
    exploration: int = Field(default=0, ge=0)
    deep: int = Field(default=0, ge=0)  # 采矿权深部探矿权: counted among exploration rights
    proposed: int = Field(default=0, ge=0)  # 拟设探矿权: not yet a right, not counted

    @property
    def rights(self) -> int:
        return self.mining + self.exploration + self.deep


class SupervisionSpec(_Model):
    lead_unit: str | None = None
    leader: str | None = None
    deputies: list[str] = Field(default_factory=list)
    deputy_units: list[str] = Field(default_factory=list)
    member_units: list[str] = Field(default_factory=list)
    staff_per_unit: list[int] = Field(default_factory=list)
    duty: str = ""
    reports_to: str | None = None


class ConvenerSpec(_Model):
    role: str
    title: str
    name: str | None = None


class MeetingSpec(_Model):
    frequency: Literal["quarterly", "monthly", "regular"]
    ad_hoc: bool = True
    members: list[str] = Field(default_factory=list)
    conveners: list[ConvenerSpec] = Field(default_factory=list)
    supervision: SupervisionSpec | None = None


class RectificationSpec(_Model):
    """工作问效 rectification ledger rules (seed 000 五(四))."""

    deduction_points: float = Field(default=5, ge=0)
    overdue_multiplier: float = Field(default=2, ge=1)  # 延长整改期限并加倍扣分
    follow_up_months: int = Field(default=6, ge=1)  # 每半年跟踪整改进度
    extension_days: int = Field(default=30, ge=1)


class PlanSpec(_Model):
    key: str
    name: str
    short_name: str
    level: Literal["banner", "region"]
    issuer: str
    doc_no: str = ""
    issued_on: date | None = None
    office: OfficeSpec
    convener: str
    baseline: dict[str, int]
    targets: list[TargetSpec] = Field(default_factory=list)
    units: list[UnitSpec]
    categories: list[CategorySpec] = Field(default_factory=list)
    phases: list[PhaseSpec] = Field(default_factory=list)
    tasks: list[TaskSpec]
    zones: list[ZoneSpec] = Field(default_factory=list)
    leagues: list[str] = Field(default_factory=list)
    meeting: MeetingSpec
    thresholds: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    review_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_REVIEW_WEIGHTS))
    rectification: RectificationSpec = Field(default_factory=RectificationSpec)
    # From when the units answer for weeks, problems and items (reminders, rates, notices,
    # review); default: the day the plan is first loaded.
    tracking_since: date | None = None

    @field_validator("thresholds", mode="before")
    @classmethod
    def _fill_thresholds(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {**DEFAULT_THRESHOLDS, **value}
        return value

    def unit(self, key: str) -> UnitSpec | None:
        return next((u for u in self.units if u.key == key), None)

    def task(self, key: str) -> TaskSpec | None:
        return next((t for t in self.tasks if t.key == key), None)

    def task_start(self, task: TaskSpec) -> date | None:
        """The day the task's timeline starts: its own start, its phase's, or the issue date."""
        if task.start is not None:
            return task.start
        for phase in self.phases:
            if phase.key == task.phase and phase.start is not None:
                return phase.start
        return self.issued_on

    def target(self, key: str) -> TargetSpec | None:
        return next((t for t in self.targets if t.key == key), None)


# --------------------------------------------------------------------------- parsing


def parse_plan_file(path: Path) -> PlanSpec:
    """Read, validate and reconcile one plan file; the key defaults to the file's stem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PlanFileError("<file>", f"找不到计划文件 {path}。") from exc
    except IsADirectoryError as exc:
        raise PlanFileError("<file>", f"{path} 是一个目录，不是计划文件。") from exc
    except PermissionError as exc:
        raise PlanFileError("<file>", f"没有读取 {path} 的权限。") from exc
    except UnicodeDecodeError as exc:
        raise PlanFileError("<file>", f"{path} 不是文本文件，计划文件应为 UTF-8 编码的 YAML 文本。") from exc
    except OSError as exc:
        raise PlanFileError("<file>", f"无法读取计划文件 {path}。") from exc
    return parse_plan_text(text, key=path.stem)


def parse_plan_text(text: str, key: str) -> PlanSpec:
    """Validate and reconcile plan-file YAML text; `key` is used when the text has none."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"第{mark.line + 1}行第{mark.column + 1}列" if mark else "位置不明"
        raise PlanFileError(
            "<yaml>",
            f"计划文件格式有误，{where}：{_yaml_problem(exc.problem or exc.context or '')}。"
            "请检查缩进、冒号、引号和括号是否成对。",
        ) from exc
    except yaml.YAMLError as exc:
        raise PlanFileError("<yaml>", "计划文件格式有误，无法读取。请检查缩进、冒号、引号和括号是否成对。") from exc
    if data is None:
        raise PlanFileError("<root>", "计划文件是空的。")
    if not isinstance(data, dict):
        raise PlanFileError(
            "<root>",
            "计划文件的内容不是“字段：值”的形式（应逐行写 key: urad-middle-banner、name: … 等），"
            "请确认选择的是计划文件（可参照 plans/ 下的内置计划）。",
        )
    data.setdefault("key", key)
    try:
        spec = PlanSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise PlanFileError(_loc_path(first["loc"]), _zh_error(first)) from exc
    reconcile(spec)
    return spec


# PyYAML's problems, in Chinese (the rest are "格式不正确" at their line and column).
_YAML_PROBLEMS = (
    ("mapping values are not allowed", "此处不应出现冒号（冒号后应有空格；值中含冒号时请加引号）"),
    ("could not find expected ':'", "缺少冒号"),
    ("found character '\\t'", "含有制表符，缩进请用空格"),
    ("expected <block end>", "缩进不一致"),
    ("found unexpected end of stream", "引号没有成对"),
    ("expected ',' or ']'", "方括号没有成对，或缺少逗号"),
    ("expected ',' or '}'", "花括号没有成对，或缺少逗号"),
    ("found undefined alias", "引用了未定义的锚点"),
    ("found duplicate anchor", "锚点重复"),
)


def _yaml_problem(problem: str) -> str:
    """PyYAML's problem text said in Chinese."""
    for english, chinese in _YAML_PROBLEMS:
        if english in problem:
            return chinese
    return "格式不正确"


def shown_path(field: str) -> str:
    """A field path as the user reads it: 'zones[3].mining' -> 'zones 第4项的 mining', [*] -> 各项."""
    out = re.sub(
        r"\[(\d+)\]\.?", lambda m: f" 第{int(m.group(1)) + 1}项" + ("的 " if m.group(0).endswith(".") else ""), field
    )
    return re.sub(r"\[\*\]\.?", lambda m: " 各项" + ("的 " if m.group(0).endswith(".") else ""), out)


def _shown(value: Any) -> str:
    """A value from the file as the user wrote it (no Python representation)."""
    if value is None:
        return "空值"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "一组“字段：值”"
    if isinstance(value, (list, tuple)):
        return "一个列表"
    return f"“{value}”"


def _loc_path(loc: Sequence[str | int]) -> str:
    """('zones', 3, 'mining') -> 'zones[3].mining'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


def _zh_error(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return "缺少必填项"
    if kind == "extra_forbidden":
        return "不认识的字段，请检查拼写"
    if kind.startswith("int_"):
        return f"应为整数，实际为{_shown(value)}"
    if kind.startswith("float_"):
        return f"应为数字，实际为{_shown(value)}"
    if kind.startswith("date_"):
        return f"应为日期，写作 2026-01-08 的形式，实际为{_shown(value)}"
    if kind.startswith("bool_"):
        return f"应填 true 或 false，实际为{_shown(value)}"
    if kind == "literal_error":
        allowed = "、".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        return f"取值{_shown(value)}不在允许范围内" + (f"，可填：{allowed}" if allowed else "")
    if kind == "greater_than_equal":
        return f"不能小于{ctx.get('ge')}，实际为{_shown(value)}"
    if kind == "less_than_equal":
        return f"不能大于{ctx.get('le')}，实际为{_shown(value)}"
    if kind == "list_type":
        return f"应为列表（逐行以“- ”开头），实际为{_shown(value)}"
    if kind in ("dict_type", "model_type"):
        return f"应为一组“字段：值”，实际为{_shown(value)}"
    if kind.startswith("string_"):
        return f"应为文字，实际为{_shown(value)}"
    if kind == "value_error":
        reason = str(ctx.get("error", ""))
        if re.search(r"[\u4e00-\u9fff]", reason):  # our validators' own Chinese reason
            return reason
    return f"取值{_shown(value)}无效"


# --------------------------------------------------------------------------- reconciliation


def reconcile(spec: PlanSpec) -> None:
    """Raise PlanFileError on the first reference, key, date or total that does not hold."""
    _check_keys(spec)
    _check_references(spec)
    _check_phases(spec)
    _check_tasks(spec)
    _check_weights(spec)
    if spec.level == "banner":
        _reconcile_banner(spec)
    else:
        _reconcile_region(spec)


def _fail(field: str, message: str) -> NoReturn:
    raise PlanFileError(field, message)


def _unique(items: Iterable[str], field: str, what: str) -> None:
    seen: set[str] = set()
    for i, key in enumerate(items):
        if key in seen:
            _fail(f"{field}[{i}].key", f"{what}键 {key!r} 重复")
        seen.add(key)


def _check_keys(spec: PlanSpec) -> None:
    if not PLAN_KEY_RE.match(spec.key):
        _fail("key", f"方案键 {spec.key!r} 只能用小写字母、数字、- 和 _")
    for i, unit in enumerate(spec.units):
        if not UNIT_KEY_RE.match(unit.key):
            _fail(f"units[{i}].key", f"单位键 {unit.key!r} 只能用小写字母、数字和 _，且以字母开头")
    _unique((u.key for u in spec.units), "units", "单位")
    named: dict[str, str] = {}
    for i, unit in enumerate(spec.units):
        for alias in dict.fromkeys(filter(None, (unit.name, unit.short, *unit.aliases))):
            other = named.setdefault(alias, unit.key)
            if other != unit.key:
                _fail(f"units[{i}]", f"单位名称“{alias}”同时指 {other} 和 {unit.key}，名称、简称和别名不能重复")
    _unique((c.key for c in spec.categories), "categories", "问题类别")
    _unique((t.key for t in spec.targets), "targets", "目标")
    _unique((p.key for p in spec.phases), "phases", "阶段")
    _unique((t.key for t in spec.tasks), "tasks", "任务")
    seqs = [t.seq for t in spec.tasks]
    if len(set(seqs)) != len(seqs):
        _fail("tasks", f"任务序号重复：{seqs}")
    for i, zone in enumerate(spec.zones):
        if zone.seq != i + 1:
            _fail(f"zones[{i}].seq", f"整合区序号应为{i + 1}，实际为{zone.seq}")


def _check_references(spec: PlanSpec) -> None:
    known = {u.key for u in spec.units}

    def ref(field: str, key: str | None) -> None:
        if key is not None and key not in known:
            _fail(field, f"单位键 {key!r} 未在 units 中定义")

    ref("office.unit", spec.office.unit)
    ref("convener", spec.convener)
    for task in spec.tasks:
        for role in ("lead", "cooperating", "responsible"):
            for j, key in enumerate(getattr(task, role)):
                ref(f"tasks[{task.key}].{role}[{j}]", key)
    for cat in spec.categories:
        ref(f"categories[{cat.key}].owner", cat.owner)
        for sector, key in cat.owner_by_sector.items():
            if sector not in ("coal", "noncoal"):
                _fail(
                    f"categories[{cat.key}].owner_by_sector",
                    f"行业 {sector!r} 无效，只能是 coal（煤炭）或 noncoal（非煤）",
                )
            ref(f"categories[{cat.key}].owner_by_sector.{sector}", key)
        if cat.duty_from_plan:
            for key in (cat.owner, *cat.owner_by_sector.values()):
                unit = spec.unit(key)
                if unit is not None and not unit.duties:
                    _fail(
                        f"categories[{cat.key}].duty_from_plan",
                        f"类别 {cat.name} 标注为实施方案明确的职责（duty_from_plan: true），但 {unit.name} 在 units 中没有列出职责（duties）",
                    )
        if cat.local and not spec.leagues:
            _fail(
                f"categories[{cat.key}].local",
                f"类别 {cat.name} 按属地交办（local: true），但本计划没有列出盟市（leagues）",
            )
    for i, key in enumerate(spec.leagues):
        ref(f"leagues[{i}]", key)
        unit = spec.unit(key)
        if unit is not None and unit.kind != "league":
            _fail(f"leagues[{i}]", f"{unit.name} 的类型是 {unit.kind}，不是盟市（league）")
    for i, key in enumerate(spec.meeting.members):
        ref(f"meeting.members[{i}]", key)
    sup = spec.meeting.supervision
    if sup is not None:
        ref("meeting.supervision.lead_unit", sup.lead_unit)
        for i, key in enumerate(sup.deputy_units):
            ref(f"meeting.supervision.deputy_units[{i}]", key)
        for i, key in enumerate(sup.member_units):
            ref(f"meeting.supervision.member_units[{i}]", key)
        ref("meeting.supervision.reports_to", sup.reports_to)


def _check_phases(spec: PlanSpec) -> None:
    previous_end: date | None = None
    for phase in spec.phases:
        if phase.start is not None and phase.start > phase.end:
            _fail(f"phases[{phase.key}].start", f"阶段 {phase.name} 的开始日期 {phase.start} 晚于结束日期 {phase.end}")
        if previous_end is not None:
            if phase.end <= previous_end:
                _fail(
                    f"phases[{phase.key}].end",
                    f"阶段 {phase.name} 的结束日期 {phase.end} 不晚于上一阶段的 {previous_end}",
                )
            if phase.start is not None and phase.start <= previous_end:
                _fail(
                    f"phases[{phase.key}].start",
                    f"阶段 {phase.name} 的开始日期 {phase.start} 与上一阶段重叠（上一阶段止于 {previous_end}）",
                )
        previous_end = phase.end


def _check_tasks(spec: PlanSpec) -> None:
    phase_keys = {p.key for p in spec.phases}
    for task in spec.tasks:
        field = f"tasks[{task.key}]"
        if task.phase is not None and task.phase not in phase_keys:
            _fail(f"{field}.phase", f"阶段键 {task.phase!r} 未在 phases 中定义")
        if not task.responsible and not task.lead:
            _fail(f"{field}.responsible", f"任务 {task.name} 没有牵头单位，也没有责任单位")
        if task.breakdown:
            total = sum(b.count for b in task.breakdown)
            if total != task.target:
                parts = "+".join(str(b.count) for b in task.breakdown)
                _fail(f"{field}.breakdown", f"{task.name} 的分项合计{parts}={total}，与任务数{task.target}不符")
            _unique((b.key for b in task.breakdown), f"{field}.breakdown", "分项")
        _check_milestones(spec.task_start(task), task.deadline, task.milestones, field)
    for target in spec.targets:
        _check_milestones(target.start or spec.issued_on, target.deadline, target.milestones, f"targets[{target.key}]")


def _check_milestones(start: date | None, deadline: date | None, marks: list[ScheduleItem], field: str) -> None:
    if start is not None and deadline is not None and start >= deadline:
        _fail(f"{field}.start", f"开始日期 {start} 不早于期限 {deadline}")
    previous: ScheduleItem | None = None
    for j, item in enumerate(marks):
        where = f"{field}.milestones[{j}]"
        if start is not None and item.by <= start:
            _fail(f"{where}.by", f"进度节点日期 {item.by} 应晚于开始日期 {start}")
        if deadline is not None and item.by > deadline:
            _fail(f"{where}.by", f"进度节点日期 {item.by} 晚于期限 {deadline}")
        if deadline is not None and item.by == deadline and abs(item.share - 1.0) > 1e-9:
            _fail(f"{where}.share", f"期限 {deadline} 当日应全部完成（1.0），实际为{item.share:g}")
        if previous is not None:
            if item.by <= previous.by:
                _fail(f"{where}.by", f"进度节点日期 {item.by} 应晚于上一节点 {previous.by}")
            if item.share < previous.share:
                _fail(f"{where}.share", f"进度比例{item.share:g}小于上一节点的{previous.share:g}，应逐步递增")
        previous = item


def _check_weights(spec: PlanSpec) -> None:
    total = sum(spec.review_weights.values())
    if abs(total - 100) > 1e-9:
        _fail("review_weights", f"工作问效各项权重合计{total:g}，应为100")
    for name, value in spec.thresholds.items():
        if value < 0:
            _fail(f"thresholds.{name}", f"阈值不能为负数，实际为{value:g}")


def _need_task(spec: PlanSpec, key: str) -> TaskSpec:
    task = spec.task(key)
    if task is None:
        _fail("tasks", f"缺少任务 {key!r}（核对合计数需要它）")
    return task


def _need_target(spec: PlanSpec, key: str) -> TargetSpec:
    target = spec.target(key)
    if target is None:
        _fail("targets", f"缺少目标 {key!r}（核对合计数需要它）")
    return target


def _need_baseline(spec: PlanSpec, key: str) -> int:
    if key not in spec.baseline:
        _fail(f"baseline.{key}", "缺少基数（核对合计数需要它）")
    return spec.baseline[key]


def _reconcile_banner(spec: PlanSpec) -> None:
    """Totals implied by seed 000 (乌中政办发〔2026〕4号)."""
    mining0 = _need_baseline(spec, "mining")
    exploration0 = _need_baseline(spec, "exploration")
    cons = _need_task(spec, "consolidate")
    field = "tasks[consolidate]"
    n = len(spec.zones)
    zone_mining = sum(z.mining for z in spec.zones)
    zone_exploration = sum(z.exploration + z.deep for z in spec.zones)
    if cons.zones_count is not None and n != cons.zones_count:
        _fail("zones", f"列出{n}个整合区，与 {cons.name} 的{cons.zones_count}个不符")
    if cons.mining is None or cons.exploration is None:
        _fail(f"{field}.mining", f"{cons.name} 须写明采矿权（mining）和探矿权（exploration）宗数")
    if zone_mining != cons.mining:
        _fail(
            "zones[*].mining",
            f"{n}个整合区的采矿权合计{zone_mining}宗，与 {cons.name} 的{cons.mining}宗不符（{_per_zone(spec, 'mining')}）",
        )
    if zone_exploration != cons.exploration:
        _fail(
            "zones[*].exploration",
            f"{n}个整合区的探矿权（含深部探矿权）合计{zone_exploration}宗，与 {cons.name} 的{cons.exploration}宗不符（{_per_zone(spec, 'exploration')}）",
        )
    if cons.mining + cons.exploration != cons.target:
        _fail(
            f"{field}.target",
            f"{cons.name} 采矿权{cons.mining}宗 + 探矿权{cons.exploration}宗 = {cons.mining + cons.exploration}宗，与整合矿业权{cons.target}宗不符",
        )
    if cons.minerals_count is not None:
        minerals = {m for z in spec.zones for m in z.minerals}
        if len(minerals) != cons.minerals_count:
            _fail(
                "zones[*].minerals",
                f"整合区涉及矿种{len(minerals)}个（{'、'.join(sorted(minerals))}），与 {cons.name} 的{cons.minerals_count}个不符",
            )

    reduce_mining = _need_target(spec, "reduce_mining")
    reduce_exploration = _need_target(spec, "reduce_exploration")
    reduce_total = _need_target(spec, "reduce_total")
    if reduce_mining.value + reduce_exploration.value != reduce_total.value:
        _fail(
            "targets[reduce_total].value",
            f"减少采矿权{reduce_mining.value:g} + 探矿权{reduce_exploration.value:g} = {reduce_mining.value + reduce_exploration.value:g}，与消减矿业权{reduce_total.value:g}个不符",
        )
    if reduce_mining.value > mining0:
        _fail("targets[reduce_mining].value", f"减少采矿权{reduce_mining.value:g}宗，超过现有{mining0}宗")
    if reduce_exploration.value > exploration0:
        _fail(
            "targets[reduce_exploration].value",
            f"减少探矿权{reduce_exploration.value:g}宗，超过现有{exploration0}宗",
        )
    max_mines = _need_target(spec, "max_mines")
    if mining0 - reduce_mining.value > max_mines.value:
        _fail(
            "targets[max_mines].value",
            f"现有采矿权{mining0} − 减少{reduce_mining.value:g} = {mining0 - reduce_mining.value:g}，超过矿山总数上限{max_mines.value:g}",
        )
    close = spec.task("close")
    if close is not None and close.target > reduce_mining.value:
        _fail("tasks[close].target", f"淘汰关闭{close.target}宗，超过减少采矿权目标{reduce_mining.value:g}宗")
    # 一 and 三(二): the mining rights cut are the closures plus those absorbed by consolidation (the
    # zones' mining rights become one per zone); the exploration rights cut are those in the zones.
    if close is not None:
        absorbed = cons.mining - n
        if close.target + absorbed != reduce_mining.value:
            _fail(
                "targets[reduce_mining].value",
                f"减少采矿权{reduce_mining.value:g}宗，与淘汰关闭{close.target}宗 + 整合减少{absorbed}宗"
                f"（{cons.mining}宗采矿权整合为{n}个整合区）= {close.target + absorbed}宗不符",
            )
    if cons.exploration != reduce_exploration.value:
        _fail(
            "targets[reduce_exploration].value",
            f"减少探矿权{reduce_exploration.value:g}宗，与整合区内探矿权{cons.exploration}宗不符",
        )
    ratio = spec.target("min_large_medium_ratio")
    if ratio is not None and not 0 < ratio.value <= 1:
        _fail("targets[min_large_medium_ratio].value", f"大中型矿山占比应在0到1之间，实际为{ratio.value:g}")
    restart_target = spec.target("restart")
    restart_task = spec.task("restart")
    if restart_target is not None and restart_task is not None and restart_target.value != restart_task.target:
        _fail(
            "tasks[restart].target",
            f"{restart_task.name} {restart_task.target}个，与复工达产目标{restart_target.value:g}个不符",
        )


def _per_zone(spec: PlanSpec, what: str) -> str:
    if what == "mining":
        return "，".join(f"{z.seq}.{z.name} {z.mining}" for z in spec.zones)
    return "，".join(f"{z.seq}.{z.name} {z.exploration}+{z.deep}" for z in spec.zones)


def _reconcile_region(spec: PlanSpec) -> None:
    """Totals implied by seed 003 (全区盘活矿业权, 2022)."""
    idle = _need_baseline(spec, "idle_mines")
    idle_coal = _need_baseline(spec, "idle_coal")
    idle_noncoal = _need_baseline(spec, "idle_noncoal")
    unconverted = _need_baseline(spec, "unconverted_exploration")
    unconverted_coal = _need_baseline(spec, "unconverted_coal")
    unconverted_noncoal = _need_baseline(spec, "unconverted_noncoal")
    if idle_coal + idle_noncoal != idle:
        _fail(
            "baseline.idle_mines",
            f"停产煤矿{idle_coal} + 停产非煤矿山{idle_noncoal} = {idle_coal + idle_noncoal}，与停产矿山{idle}个不符",
        )
    if unconverted_coal + unconverted_noncoal != unconverted:
        _fail(
            "baseline.unconverted_exploration",
            f"煤炭探矿权{unconverted_coal} + 非煤探矿权{unconverted_noncoal} = {unconverted_coal + unconverted_noncoal}，与未转采探矿权{unconverted}个不符",
        )

    coal_mines = _need_task(spec, "coal_mines")
    coal_convert = _need_task(spec, "coal_convert")
    coal_explore = _need_task(spec, "coal_explore")
    noncoal_mines = _need_task(spec, "noncoal_mines")
    noncoal_convert = _need_task(spec, "noncoal_convert")
    noncoal_explore = _need_task(spec, "noncoal_explore")
    if coal_mines.target != idle_coal:
        _fail("tasks[coal_mines].target", f"{coal_mines.name} {coal_mines.target}个，与停产煤矿基数{idle_coal}个不符")
    if noncoal_mines.target != idle_noncoal:
        _fail(
            "tasks[noncoal_mines].target",
            f"{noncoal_mines.name} {noncoal_mines.target}个，与停产非煤矿山基数{idle_noncoal}个不符",
        )
    if coal_mines.target + noncoal_mines.target != idle:
        _fail(
            "tasks[noncoal_mines].target",
            f"任务一{coal_mines.target} + 任务四{noncoal_mines.target} = {coal_mines.target + noncoal_mines.target}，与停产矿山{idle}个不符",
        )
    if coal_convert.target + coal_explore.target != unconverted_coal:
        _fail(
            "tasks[coal_explore].target",
            f"任务二{coal_convert.target} + 任务三{coal_explore.target} = {coal_convert.target + coal_explore.target}，与煤炭探矿权{unconverted_coal}个不符",
        )
    if noncoal_convert.target + noncoal_explore.target != unconverted_noncoal:
        _fail(
            "tasks[noncoal_explore].target",
            f"任务五{noncoal_convert.target} + 任务六{noncoal_explore.target} = {noncoal_convert.target + noncoal_explore.target}，与非煤探矿权{unconverted_noncoal}个不符",
        )
    for target in spec.targets:
        if target.key == "restart_idle" and target.value != idle:
            _fail("targets[restart_idle].value", f"复工复产目标{target.value:g}个，与停产矿山{idle}个不符")
        if target.key == "convert_exploration" and target.value != unconverted:
            _fail(
                "targets[convert_exploration].value",
                f"探转采目标{target.value:g}个，与未转采探矿权{unconverted}个不符",
            )
    league_set = set(spec.leagues)
    for task in spec.tasks:
        missing = [k for k in spec.leagues if k not in task.responsible]
        if missing:
            _fail(
                f"tasks[{task.key}].responsible", f"{task.name} 的责任单位缺少盟市：{'、'.join(_names(spec, missing))}"
            )
        extra = [k for k in task.responsible if k not in league_set]
        if extra:
            _fail(
                f"tasks[{task.key}].responsible",
                f"{task.name} 的责任单位应为各盟行政公署、市人民政府，不应包括：{'、'.join(_names(spec, extra))}",
            )


def _names(spec: PlanSpec, keys: Iterable[str]) -> list[str]:
    return [(unit.name if (unit := spec.unit(k)) else k) for k in keys]


# --------------------------------------------------------------------------- rendering


def _totals(spec: PlanSpec) -> dict[str, Any]:
    by_subject: Counter[str] = Counter()
    for task in spec.tasks:
        by_subject[task.subject] += task.target
    reduce = [t.value for t in spec.targets if t.kind == "reduce" and t.key != "reduce_total"]
    return {
        "zones": len(spec.zones),
        "zone_mining": sum(z.mining for z in spec.zones),
        "zone_exploration": sum(z.exploration for z in spec.zones),
        "zone_deep": sum(z.deep for z in spec.zones),
        "zone_exploration_with_deep": sum(z.exploration + z.deep for z in spec.zones),
        "zone_proposed": sum(z.proposed for z in spec.zones),
        "rights_in_zones": sum(z.rights for z in spec.zones),
        "zone_minerals": sorted({m for z in spec.zones for m in z.minerals}),
        "reduction": sum(reduce),
        "task_targets": {t.key: t.target for t in spec.tasks},
        "by_subject": dict(by_subject),
    }


def unit_aliases(spec: Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """Each unit key's other names (units[].aliases) in a loaded plan's stored spec; none for a
    plan stored before the key."""
    return {str(u.get("key")): tuple(u.get("aliases") or ()) for u in (spec or {}).get("units") or []}


def plan_show_json(spec: PlanSpec) -> dict[str, Any]:
    """A plain-data view of the plan with the computed totals, for /plan show and the API."""

    def name(key: str) -> str:
        unit = spec.unit(key)
        return unit.name if unit else key

    return {
        "key": spec.key,
        "name": spec.name,
        "short_name": spec.short_name,
        "level": spec.level,
        "issuer": spec.issuer,
        "doc_no": spec.doc_no,
        "issued_on": spec.issued_on.isoformat() if spec.issued_on else None,
        "office": {
            **spec.office.model_dump(),
            "unit_name": name(spec.office.unit),
            "brief_title_lines": spec.office.brief_title_lines,
        },
        "convener": {"key": spec.convener, "name": name(spec.convener)},
        "baseline": dict(spec.baseline),
        "targets": [
            {
                "key": t.key,
                "name": t.name,
                "value": t.value,
                "unit": t.unit,
                "kind": t.kind,
                "start": _iso(t.start or spec.issued_on),
                "deadline": t.deadline.isoformat() if t.deadline else None,
                "milestones": [{"by": s.by.isoformat(), "share": s.share} for s in t.milestones],
            }
            for t in spec.targets
        ],
        "batches": [
            {
                "key": t.key,
                "seq": t.seq,
                "name": t.name,
                "target": t.target,
                "measure": t.measure,
                "subject": t.subject,
                "done_status": t.done_status,
                "sector": t.sector,
                "zones_count": t.zones_count,
                "mining": t.mining,
                "exploration": t.exploration,
                "implementer": t.implementer,
                "lead": [name(k) for k in t.lead],
                "cooperating": [name(k) for k in t.cooperating],
                "responsible": [name(k) for k in t.responsible],
                "units": [name(k) for k in t.all_units],
                "breakdown": [b.model_dump() for b in t.breakdown],
                "phase": t.phase,
                "deadline": t.deadline.isoformat() if t.deadline else None,
                "start": _iso(spec.task_start(t)),
                "milestones": [{"by": s.by.isoformat(), "share": s.share} for s in t.milestones],
            }
            for t in spec.tasks
        ],
        "zones": [
            {
                "seq": z.seq,
                "name": z.name,
                "minerals": list(z.minerals),
                "mining": z.mining,
                "exploration": z.exploration,
                "deep": z.deep,
                "proposed": z.proposed,
            }
            for z in spec.zones
        ],
        "totals": _totals(spec),
        "phases": [
            {"key": p.key, "name": p.name, "start": p.start.isoformat() if p.start else None, "end": p.end.isoformat()}
            for p in spec.phases
        ],
        "units": [u.model_dump() for u in spec.units],
        "leagues": [name(k) for k in spec.leagues],
        "categories": [{**c.model_dump(), "owner_name": name(c.owner)} for c in spec.categories],
        "meeting": {
            "frequency": spec.meeting.frequency,
            "ad_hoc": spec.meeting.ad_hoc,
            "members": [name(k) for k in spec.meeting.members],
            "conveners": [c.model_dump() for c in spec.meeting.conveners],
            "supervision": spec.meeting.supervision.model_dump() if spec.meeting.supervision else None,
        },
        "thresholds": dict(spec.thresholds),
        "review_weights": dict(spec.review_weights),
        "rectification": spec.rectification.model_dump(),
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


_FREQUENCY_ZH = {"quarterly": "每季度", "monthly": "每月", "regular": "定期"}


def _fmt(value: int | float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def plan_show_text(spec: PlanSpec) -> str:
    """A readable Chinese rendering of the plan, one fact per line."""
    data = plan_show_json(spec)
    lines: list[str] = [f"【{spec.name}】"]
    issued = (
        f"{spec.issued_on.year}年{spec.issued_on.month}月{spec.issued_on.day}日" if spec.issued_on else "日期未载明"
    )
    lines.append(f"发文：{spec.issuer} {spec.doc_no or '（文号未载明）'}，{issued}")
    lines.append(
        f"召集单位：{data['convener']['name']}；办公室：{spec.office.name}（设在{data['office']['unit_name']}）"
    )
    lines.append("一、基数")
    baseline_zh = {
        "mining": "采矿权",
        "exploration": "探矿权",
        "idle_mines": "停产矿山",
        "idle_coal": "停产煤矿",
        "idle_noncoal": "停产非煤矿山",
        "excluded_cannot_resume": "不能恢复生产（已剔除）",
        "unconverted_exploration": "未转采探矿权",
        "unconverted_coal": "煤炭探矿权未转采",
        "unconverted_noncoal": "非煤探矿权未转采",
    }
    for key, value in spec.baseline.items():
        lines.append(f"  {baseline_zh.get(key, key)}：{value}")
    if spec.targets:
        lines.append("二、目标")
        for t in spec.targets:
            shown = f"{t.value * 100:g}%" if t.kind == "min_ratio" else f"{_fmt(t.value)}{t.unit}"
            due = f"（{cn_date(t.deadline)}前）" if t.deadline else ""
            lines.append(f"  {t.name}：{shown}{due}")
    lines.append("三、任务")
    for b in data["batches"]:
        extra = ""
        if b["zones_count"] is not None:
            extra = f"（{b['zones_count']}个整合区，采矿权{b['mining']}宗、探矿权{b['exploration']}宗）"
        lines.append(f"  {b['seq']}. {b['name']}：{b['target']}{b['measure']}{extra}")
        if b["breakdown"]:
            parts = "；".join(f"{x['name']}{x['count']}" for x in b["breakdown"])
            lines.append(f"     其中：{parts}")
        if b["implementer"]:
            lines.append(f"     实施主体：{b['implementer']}")
        if b["lead"]:
            lines.append(f"     牵头部门：{'、'.join(b['lead'])}")
        if b["cooperating"]:
            lines.append(f"     配合部门：{'、'.join(b['cooperating'])}")
        if b["responsible"]:
            lines.append(f"     责任单位：{'、'.join(b['responsible'])}")
        if b["deadline"]:
            start, deadline = b["start"], date.fromisoformat(b["deadline"])
            span = f"{cn_date(date.fromisoformat(start))}至{cn_date(deadline)}" if start else f"{cn_date(deadline)}前"
            lines.append(f"     期限：{span}")
        elif not b["milestones"]:
            lines.append("     期限：方案未载明（可由管理员设置进度节点）")
        for m in b["milestones"]:
            lines.append(f"     进度节点：{cn_date(date.fromisoformat(m['by']))}前完成{m['share'] * 100:g}%")
    if spec.zones:
        tot = data["totals"]
        lines.append(
            f"四、整合区（{tot['zones']}个，采矿权{tot['zone_mining']}宗，探矿权{tot['zone_exploration_with_deep']}宗（含深部探矿权{tot['zone_deep']}宗），拟设探矿权{tot['zone_proposed']}宗不计）"
        )
        for z in spec.zones:
            zone_parts = [f"采矿权{z.mining}"]
            if z.exploration:
                zone_parts.append(f"探矿权{z.exploration}")
            if z.deep:
                zone_parts.append(f"深部探矿权{z.deep}")
            if z.proposed:
                zone_parts.append(f"拟设探矿权{z.proposed}")
            lines.append(f"  {z.seq}. {z.name}（{'、'.join(z.minerals)}）：{'，'.join(zone_parts)}")
    if spec.phases:
        lines.append("五、阶段")
        for p in spec.phases:
            span = f"{cn_date(p.start)}至{cn_date(p.end)}" if p.start else f"{cn_date(p.end)}前"
            lines.append(f"  {p.name}：{span}")
    lines.append("六、成员单位")
    for u in spec.units:
        lines.append(f"  {u.name}（{u.key}）")
    lines.append(
        f"七、联席会议：{_FREQUENCY_ZH[spec.meeting.frequency]}调度"
        + ("，遇紧急问题可临时加开" if spec.meeting.ad_hoc else "")
    )
    for c in spec.meeting.conveners:
        lines.append(f"  {c.role}：{c.title}{' ' + c.name if c.name else ''}")
    if data["meeting"]["members"]:
        lines.append(f"  参会单位：{'、'.join(data['meeting']['members'])}")
    return "\n".join(lines)


def content_hash(spec: PlanSpec) -> str:
    """sha256 of a canonical JSON dump of the spec, for idempotent loading."""
    # A spec without tracking_since hashes as it did before the field existed.
    dumped = spec.model_dump(mode="json", exclude={"tracking_since"} if spec.tracking_since is None else None)
    canonical = json.dumps(dumped, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
