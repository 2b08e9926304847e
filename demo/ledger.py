"""The sample ledger (示例数据) of the 乌拉特中旗 plan: 69 mining and 49 exploration rights
as the baseline (seed 000 一、), the 19 zones exactly as the plan file lists them (27
mining, 17 exploration + 2 deep, and the 3 proposed 拟设探矿权 rows that are not rights),
and batch memberships that match every batch target; in each zone its first mining right (the
core company's) is marked 整合后保留 是 and its other rights 否. Written into the plan's own ledger
template and imported through oversight.ledger, so every cell passes the real validation.

Batches by construction (mining 69 = 27 in zones + 7 close + 11 upgrade + 20 restart + 4
others; exploration 49 = 19 in zones + 11 convert + 19 grant):
    consolidate 46 = the 27 + 19 zone rights
    close 7, upgrade 11 (small mines, also granted their deep resources)
    grant 39 = 9 zone mining + the 11 upgrade mines + 19 outside exploration
    convert 23 = 12 zone exploration + 11 outside exploration
    restart 28 = 8 stopped zone mines + 20 outside mines
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook
from sqlmodel import Session, col, select

from demo.people import contact_name
from models import Unit, Zone
from oversight.ledger import COLUMNS, KEPT_LABELS, SHEET_RIGHTS, ImportResult, import_ledger, template_bytes
from oversight.rights import (
    GREEN_LABELS,
    KIND_LABELS,
    PRODUCTION_LABELS,
    SIZE_LABELS,
    STATUS_LABELS,
)

SAMPLE = "示例数据"
HOLDER = "示例矿业有限公司{n}"

BASELINE_MINING = 69
BASELINE_EXPLORATION = 49
BATCH_TARGETS = {"consolidate": 46, "close": 7, "upgrade": 11, "grant": 39, "convert": 23, "restart": 28}
BATCH_NAMES = {
    "consolidate": "强化整合重组一批",
    "close": "强化淘汰关闭一批",
    "upgrade": "加强升级改造一批",
    "grant": "优选出让一批",
    "convert": "推进转采一批",
    "restart": "复工达产一批",
}
DUE = {
    "consolidate": date(2028, 12, 31),
    "close": date(2026, 12, 31),
    "upgrade": date(2030, 12, 31),
    "grant": date(2028, 12, 31),
    "convert": date(2028, 12, 31),
    "restart": date(2027, 12, 31),
}
UNIT_OF = {
    "consolidate": "natres",
    "close": "natres",
    "upgrade": "emergency",
    "grant": "natres",
    "convert": "natres",
    "restart": "emergency",
}

# Places of 乌拉特中旗 (苏木镇, gacha and landmarks) for rights outside the zones.
PLACES = [
    "巴音杭盖",
    "乌兰敖包",
    "哈达图",
    "查干敖包",
    "那仁宝力格",
    "额很乌苏",
    "宝音图",
    "呼和温都尔",
    "巴彦哈拉",
    "乌兰布拉格",
    "白音查干",
    "哈拉图",
    "沙布台",
    "敖包图",
    "新忽热",
    "川井",
    "巴音满都呼",
    "朝鲁图",
    "温更",
    "石哈河",
    "德岭山",
    "乌加河",
    "呼勒斯太",
    "同和太",
    "牧羊海",
    "海流图",
    "桑根达来",
    "甘其毛都",
    "巴音乌兰",
    "阿拉腾敖包",
    "额尔登敖包",
    "乌兰忽洞",
    "查干温都尔",
    "巴润宝力格",
    "乌力吉图",
]
OUTSIDE_MINERALS = [
    "铁",
    "金",
    "萤石",
    "铜",
    "花岗岩",
    "石灰岩",
    "白云岩",
    "铅锌",
    "石英岩",
    "大理岩",
    "硫铁",
    "钼",
    "铁",
    "金",
    "萤石",
]
SIDES = ["东矿段", "西矿段", "北矿段", "南矿段"]
SURVEYS = ["外围详查", "深部普查", "东段勘探", "西段详查", "北段普查"]


@dataclass
class SampleLedger:
    """What was generated: the rows (column key -> label) and the import's result."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    result: ImportResult | None = None

    def count(self, kind: str) -> int:
        return sum(1 for r in self.rows if r["kind"] == KIND_LABELS[kind])

    def in_batch(self, key: str) -> int:
        return sum(1 for r in self.rows if BATCH_NAMES[key] in (r["batches"] or "").split("、"))


class _Codes:
    """Licence-like codes, unique: C + 150824 (乌拉特中旗) + year + month + type + serial; T… for exploration."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def _unique(self, make) -> str:
        while True:
            code = make()
            if code not in self.seen:
                self.seen.add(code)
                return code

    def mining(self) -> str:
        r = self.rng
        return self._unique(
            lambda: (
                f"C150824{r.randint(2004, 2019)}{r.randint(1, 12):02d}{r.choice(['11', '71', '21'])}"
                f"{r.randint(1, 999999):06d}"
            )
        )

    def exploration(self) -> str:
        r = self.rng
        return self._unique(
            lambda: (
                f"T15{r.choice(['120', '420', '520'])}{r.randint(2006, 2020)}{r.randint(1, 12):02d}"
                f"{r.choice(['02', '03'])}{r.randint(1, 99999):05d}"
            )
        )


def _zone_base(zone: Zone) -> str:
    base = zone.name.replace("整合一区", "一区").replace("整合二区", "二区").removesuffix("整合区")
    return base if base.endswith(("矿", "区")) else base + "矿"


def _mineral_word(mineral: str) -> str:
    return mineral + "矿"


def generate_rows(*, zones: list[Zone], seed: int) -> list[dict[str, Any]]:
    """Every ledger row (labels as a person would type them), deterministic for a seed."""
    rng = random.Random(f"ledger:{seed}")
    codes = _Codes(rng)
    rows: list[dict[str, Any]] = []
    holder_no = iter(range(1, 1000))

    def row(
        *,
        code: str,
        name: str,
        kind: str,
        mineral: str,
        zone: Zone | None,
        batches: list[str],
        size: str = "small",
        production: str = "",
        parent: str | None = None,
        unit: str | None = None,
        holder: str | None = None,
        kept: bool | None = None,
    ) -> dict[str, Any]:
        unit_key = unit or (UNIT_OF[batches[0]] if batches else "natres")
        dues = [DUE[b] for b in batches]
        r = {
            "code": code,
            "name": name,
            "kind": KIND_LABELS[kind],
            "mineral": mineral,
            "zone": zone.name if zone else None,
            "parent": parent,
            "size": SIZE_LABELS[size],
            "production": PRODUCTION_LABELS[production] if production else None,
            "status": STATUS_LABELS["baseline"],
            "batches": "、".join(BATCH_NAMES[b] for b in batches) or None,
            "unit": unit_key,
            "holder": holder if holder is not None else HOLDER.format(n=next(holder_no)),
            "contact": contact_name(unit_key, rng.randrange(4)),
            "due": min(dues) if dues else None,
            "note": SAMPLE,
            "kept": None if kept is None else KEPT_LABELS[kept],
        }
        rows.append(r)
        return r

    # --- the 19 zones, exactly as the plan lists them
    zone_mining: list[dict[str, Any]] = []
    zone_exploration: list[dict[str, Any]] = []
    for zone in sorted(zones, key=lambda z: z.seq):
        base = _zone_base(zone)
        minerals = list(zone.minerals or ["铁"])
        holder = HOLDER.format(n=next(holder_no))  # one company tends to hold a zone's core
        mines = []
        for i in range(zone.planned_mining):
            name = base if zone.planned_mining == 1 else f"{base}{SIDES[i]}"
            mines.append(
                row(
                    code=codes.mining(),
                    name=name,
                    kind="mining",
                    mineral=minerals[i % len(minerals)],
                    zone=zone,
                    batches=["consolidate"],
                    production=rng.choice(["producing", "stopped", "stopped"]),
                    size="medium" if zone.seq in (1, 13) and i == 0 else "small",
                    holder=holder if i == 0 else None,
                    # The zone's core mine, its holder's, is the one the consolidation keeps (整合主体).
                    kept=i == 0,
                )
            )
        zone_mining += mines
        for i in range(zone.planned_exploration):
            survey = SURVEYS[i % len(SURVEYS)]
            zone_exploration.append(
                row(
                    code=codes.exploration(),
                    name=f"内蒙古自治区乌拉特中旗{base}{survey}",
                    kind="exploration",
                    mineral=minerals[i % len(minerals)],
                    zone=zone,
                    batches=["consolidate"],
                    production="exploring",
                    kept=False,
                )
            )
        for i in range(zone.planned_deep):
            parent = mines[i % len(mines)]
            row(
                code=codes.exploration(),
                name=f"{parent['name']}深部勘探",
                kind="deep",
                mineral=minerals[0],
                zone=zone,
                batches=["consolidate"],
                production="exploring",
                parent=parent["code"],
                holder=parent["holder"],
                kept=False,
            )
        for _ in range(zone.planned_proposed):
            row(
                code=f"拟设-{zone.seq:02d}",
                name=f"{base}外围拟设探矿权",
                kind="proposed",
                mineral=minerals[0],
                zone=zone,
                batches=[],
                holder="",
                unit="natres",
            )
    # 9 zone mines also need 协议出让 of the gaps between them; 8 stopped ones must restart.
    for r in zone_mining[:9]:
        r["batches"] += "、" + BATCH_NAMES["grant"]
    stopped = [r for r in zone_mining if r["production"] == PRODUCTION_LABELS["stopped"]]
    for r in (stopped + [r for r in zone_mining if r not in stopped])[:8]:
        r["batches"] += "、" + BATCH_NAMES["restart"]
        r["production"] = PRODUCTION_LABELS["stopped"]
    # 12 zone exploration rights are ready to convert.
    for r in zone_exploration[:12]:
        r["batches"] += "、" + BATCH_NAMES["convert"]

    # --- outside the zones
    places = PLACES[:]
    rng.shuffle(places)
    place_iter = iter(places * 4)
    used: set[str] = {r["name"] for r in rows}

    def outside_name(mineral: str, suffix: str = "") -> str:
        while True:
            name = f"乌拉特中旗{next(place_iter)}{_mineral_word(mineral)}{suffix}"
            if name not in used:
                used.add(name)
                return name

    def mine(batches: list[str], *, size: str, production: str) -> None:
        mineral = rng.choice(OUTSIDE_MINERALS)
        row(
            code=codes.mining(),
            name=outside_name(mineral),
            kind="mining",
            mineral=mineral,
            zone=None,
            batches=batches,
            size=size,
            production=production,
        )

    for _ in range(7):
        mine(["close"], size="small", production="stopped")
    for _ in range(11):
        mine(["upgrade", "grant"], size="small", production=rng.choice(["producing", "building"]))
    for i in range(20):
        mine(["restart"], size="medium" if i < 4 else "small", production="stopped")
    for i in range(4):
        mine([], size="large" if i < 3 else "medium", production="producing")
    for i in range(30):
        mineral = rng.choice(OUTSIDE_MINERALS)
        batches = ["convert"] if i < 11 else ["grant"]
        row(
            code=codes.exploration(),
            name=f"内蒙古自治区{outside_name(mineral, rng.choice(['详查', '普查', '勘探']))}",
            kind="exploration",
            mineral=mineral,
            zone=None,
            batches=batches,
            production="exploring",
        )
    _classify(rows)
    return rows


# The sample's green mines (绿色矿山名录), given to its large producing mines in turn: two at region
# level and one at league level, so the target of at least 3 at region level or above stands at 2.
SAMPLE_GREEN = ("region", "region", "city")


def _classify(rows: list[dict[str, Any]]) -> None:
    """Fill the column the banner plan's targets count beyond the others: 绿色矿山 (seed 000 一). Its
    ledger has no 行业, 停产或未转采原因, 所在盟市 or 底数核实日期 (the region plan's, seed 003)."""
    greens = iter(SAMPLE_GREEN)
    for r in rows:
        idle = r["production"] in (PRODUCTION_LABELS["stopped"], PRODUCTION_LABELS["building"])
        if r["kind"] == KIND_LABELS["mining"] and r["size"] == SIZE_LABELS["large"] and not idle:
            level = next(greens, None)
            r["green"] = GREEN_LABELS[level] if level else None


def _sheet_bytes(session: Session, plan_id: int, rows: list[dict[str, Any]], units: dict[str, str]) -> bytes:
    """The plan's ledger template with the rows filled in and the title marked 示例数据."""
    wb = load_workbook(io.BytesIO(template_bytes(session=session, plan_id=plan_id)))
    ws = wb[SHEET_RIGHTS]
    ws["A1"] = f"{ws['A1'].value}（{SAMPLE}）"
    # The template's own columns (oversight.ledger.plan_columns): the banner plan's has no 行业,
    # 停产或未转采原因, 所在盟市 or 底数核实日期, which only the region plan counts.
    by_header = {column.header: column for column in COLUMNS}
    columns = [by_header[cell.value] for cell in ws[2] if cell.value in by_header]
    for r, values in enumerate(rows, start=3):
        for c, column in enumerate(columns, start=1):
            value = values.get(column.key)
            if column.key == "unit" and value:
                value = units[value]
            ws.cell(row=r, column=c, value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def load_sample_ledger(*, session: Session, plan_id: int, seed: int, now: datetime) -> SampleLedger:
    """Generate the sample ledger and import it through oversight.ledger (the caller commits)."""
    zones = list(session.exec(select(Zone).where(Zone.plan_id == plan_id).order_by(col(Zone.seq))).all())
    units = {u.key: u.name for u in session.exec(select(Unit).where(Unit.plan_id == plan_id)).all()}
    rows = generate_rows(zones=zones, seed=seed)
    data = _sheet_bytes(session, plan_id, rows, units)
    result = import_ledger(session=session, plan_id=plan_id, data=data, actor="demo", now=now)
    return SampleLedger(rows=rows, result=result)
