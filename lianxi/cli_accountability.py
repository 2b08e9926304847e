"""`lianxi notices draft` and `lianxi review`: the period's accountability findings and
the half-yearly review, shown offline (nothing is written, nothing is sent)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from lianxi.chinese_help import ChineseTyper
from lianxi.common import cli_session, new_app, require_plan
from models.base import row_id

notices_app = new_app(name="notices", help="通报：查看某期应通报的单位及依据。")
app = ChineseTyper()
app.add_typer(notices_app)

PlanOption = Annotated[
    str | None, typer.Option("--plan", help="计划代号（文件名，如 urad-middle-banner）；默认为最后加载的计划")
]
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON")]


@notices_app.command("draft")
def notices_draft(
    period: Annotated[str, typer.Option("--period", help="季度，如 2026Q1（也可为半年 2026H1）")],
    as_json: JsonOption = False,
    plan: PlanOption = None,
) -> None:
    """列出本期应通报的单位、事由及所依据的工作记录（只读，不生成草稿、不发送）。"""
    from models import utcnow
    from oversight.accountability import RULE_LABELS, evaluate, findings_json, parse_period
    from oversight.sentences import evidence_sentence

    with cli_session(read_only=True) as session:
        p = require_plan(session, plan)
        key = p.key
        found = evaluate(session=session, plan_id=row_id(p), period=period, now=utcnow())
        label = parse_period(period).label
        session.rollback()
    if as_json:
        typer.echo(
            json.dumps(
                {"plan": key, "period": parse_period(period).key, "findings": findings_json(found)},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not found:
        typer.echo(f"{label}：经核查，无需通报的单位。")
        return
    typer.echo(f"{label}应通报事项 {len(found)} 项：")
    for i, f in enumerate(found, 1):
        typer.echo(f"\n{i}. {f.unit}（{RULE_LABELS[f.rule]}）\n   {f.summary}")
        for e in f.evidence:
            typer.echo(f"   · {evidence_sentence(e)}")


@app.command("review")
def review_command(
    period: Annotated[str, typer.Option("--period", help="半年，如 2026H1")],
    as_json: JsonOption = False,
    plan: PlanOption = None,
) -> None:
    """工作问效：各成员单位和包联领导的得分、整改台账及纸面销号核查（只读）。"""
    from models import utcnow
    from oversight.review import INDICATOR_LABELS, INDICATORS, build_review
    from oversight.sentences import evidence_sentence

    with cli_session(read_only=True) as session:
        p = require_plan(session, plan)
        review = build_review(session=session, plan_id=row_id(p), period=period, now=utcnow())
        session.rollback()
    if as_json:
        typer.echo(json.dumps(review, ensure_ascii=False, indent=2))
        return

    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v * 100:.0f}%"

    typer.echo(f"{review['label']}工作问效（{review['from']} 至 {review['to']}）")
    typer.echo(
        "\n一、成员单位得分（"
        + "、".join(f"{INDICATOR_LABELS[k]}{review['weights'].get(k, 0):g}" for k in INDICATORS)
        + "）"
    )
    for r in review["units"]:
        parts = " ".join(f"{INDICATOR_LABELS[k]}{pct(r['indicators'][k])}" for k in INDICATORS)
        if r["total"] is None:
            typer.echo(f"  {r['unit']}：不参评（本期没有可评价的事项）")
            continue
        typer.echo(
            f"  {r['unit']}：第{r['rank']}名，总分 {r['total']:.1f}（得分 {r['score']:.1f}，整改扣分 {r['deduction']:g}）　{parts}"
        )
    typer.echo("\n二、包联领导得分")
    for r in review["zone_leaders"] or [None]:
        if r is None:
            typer.echo("  （无）")
            continue
        score = "不参评" if r["score"] is None else f"{r['score']:.1f}"
        typer.echo(f"  {r['name']}（{'、'.join(r['zones'])}）：{score}")
    typer.echo(f"\n三、整改台账（{len(review['ledger'])} 项）")
    for it in review["ledger"]:
        typer.echo(
            f"  #{it['id']} {it['unit']}：{it['item']}；责任人 {it['responsible_person']}；期限 {it['deadline']}；"
            f"标准：{it['standard']}；扣分 {it['deduction']:g}；{it['state_label']}"
        )
    typer.echo(f"\n四、纸面销号核查（{len(review['flags'])} 条）")
    for f in review["flags"]:
        typer.echo(f"  {evidence_sentence(f)}")
