"""`lianxi notices draft` and `lianxi review`: the period's accountability findings and
the half-yearly review, shown offline (nothing is recorded, nothing is sent); with `--out` each
is also written as a draft document, PDF and Word copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lianxi.chinese_help import ChineseTyper
from lianxi.common import cli_session, fail, new_app, require_plan

if TYPE_CHECKING:
    from jobs.render import DocumentFiles

notices_app = new_app(name="notices", help="通报：查看某期应通报的单位及依据。")
app = ChineseTyper()
app.add_typer(notices_app)

PlanOption = Annotated[
    str | None, typer.Option("--plan", help="计划代号（文件名，如 urad-middle-banner）；默认为最后加载的计划")
]
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON")]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="输出目录：另生成草稿文件（PDF 及 Word 文档），不记录、不发送")
]


def _check_out(out: Path | None) -> None:
    if out is not None and out.exists() and not out.is_dir():
        fail(f"输出位置 {out} 已存在且不是目录。")


# An offline draft is neither approved nor recorded: every page says so, and a sample plan's
# draft also says it is sample data (oversight.sample).
OFFLINE_DRAFT_MARK = "草稿 未经审定 不得外传"


def _write_document(kind: str, doc: dict[str, Any], out: Path, name: str, *, sample: str | None) -> DocumentFiles:
    """The document as PDF and Word copy under `out`, each page marked as a draft (and as sample
    data for a sample plan), each file complete or absent: written in a temporary directory there
    and moved into place."""
    import os
    import tempfile

    from jobs.render import DocumentFiles, draft_mark, render_document

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".lianxi-") as tmp:
        files = render_document(kind, doc, out=Path(tmp) / f"{name}.pdf", sample=draft_mark(OFFLINE_DRAFT_MARK, sample))
        pdf, docx = out / f"{name}.pdf", out / f"{name}.docx"
        os.replace(files.pdf, pdf)
        os.replace(files.docx, docx)
    return DocumentFiles(pdf=pdf, docx=docx, html=files.html)


def _print_written(what: str, files: DocumentFiles) -> None:
    typer.echo(f"已生成{what}（PDF 及 Word 文档）：\n  {files.pdf}\n  {files.docx}")


@notices_app.command("draft")
def notices_draft(
    period: Annotated[str, typer.Option("--period", help="季度，如 2026Q1（也可为半年 2026H1）")],
    as_json: JsonOption = False,
    plan: PlanOption = None,
    out: OutOption = None,
) -> None:
    """列出本期应通报的单位、事由及所依据的工作记录（不记录、不发送）；加 --out 另生成通报草稿（PDF 及 Word 文档）。"""
    from models import utcnow
    from models.base import row_id
    from oversight.accountability import evaluate, finding_heading, findings_json, parse_period
    from oversight.sample import sample_mark
    from oversight.sentences import evidence_sentence

    _check_out(out)
    now = utcnow()
    doc: dict[str, Any] | None = None
    with cli_session(read_only=out is None) as session:
        p = require_plan(session, plan)
        key, sample = p.key, sample_mark(p)
        found = evaluate(session=session, plan_id=row_id(p), period=period, now=now)
        label = parse_period(period).label
        if out is not None:
            from jobs.notices import draft_document

            doc = draft_document(session=session, plan_id=row_id(p), period=period, now=now)
        session.rollback()  # the draft is read, not recorded
    if out is not None and doc is not None:
        name = f"通报草稿-{parse_period(period).key}"
        _print_written("通报草稿", _write_document("notice", doc, out, name, sample=sample))
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
        typer.echo(f"{label}：经核查，本期没有需要通报的单位。")
        return
    typer.echo(f"{label}应通报事项{len(found)}项：")
    for i, f in enumerate(found, 1):
        typer.echo(f"\n{i}. {finding_heading(f.unit, f.rule)}\n   {f.summary}")
        for e in f.evidence:
            typer.echo(f"   · {evidence_sentence(e)}")


@app.command("review")
def review_command(
    period: Annotated[str, typer.Option("--period", help="半年，如 2026H1")],
    as_json: JsonOption = False,
    plan: PlanOption = None,
    out: OutOption = None,
) -> None:
    """工作问效：各成员单位和包联领导的得分、整改台账及纸面销号核查（只读）；加 --out 另生成报告草稿（PDF 及 Word 文档）。"""
    from models import utcnow
    from models.base import row_id
    from oversight.review import INDICATOR_LABELS, INDICATORS, build_review
    from oversight.sample import sample_mark
    from oversight.sentences import evidence_sentence

    _check_out(out)
    now = utcnow()
    doc: dict[str, Any] | None = None
    with cli_session(read_only=True) as session:
        p = require_plan(session, plan)
        sample = sample_mark(p)
        review = build_review(session=session, plan_id=row_id(p), period=period, now=now)
        if out is not None:
            from jobs.review import draft_document

            doc = draft_document(session=session, plan=p, period=period, now=now)
        session.rollback()
    if out is not None and doc is not None:
        name = f"工作问效报告草稿-{review['period']}"
        _print_written("工作问效报告草稿", _write_document("review", doc, out, name, sample=sample))
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
        # A unit with no part in any task is scored on its problems alone and not ranked.
        place = f"第{r['rank']}名" if r["rank"] is not None else "不承担批次任务、不排名"
        typer.echo(
            f"  {r['unit']}：{place}，总分{r['total']:.1f}（得分{r['score']:.1f}，整改扣分{r['deduction']:g}）　{parts}"
        )
    typer.echo("\n二、包联领导得分")
    for r in review["zone_leaders"] or [None]:
        if r is None:
            typer.echo("  （无）")
            continue
        score = "不参评" if r["score"] is None else f"{r['score']:.1f}"
        typer.echo(f"  {r['name']}（{'、'.join(r['zones'])}）：{score}")
    typer.echo(f"\n三、整改台账（{len(review['ledger'])}项）")
    for it in review["ledger"]:
        typer.echo(
            f"  {it['id']}号整改事项 {it['unit']}：{it['item']}；责任人 {it['responsible_person']}；期限 {it['deadline']}；"
            f"标准：{it['standard']}；扣分{it['deduction']:g}；{it['state_label']}"
        )
    typer.echo(f"\n四、纸面销号核查（{len(review['flags'])}条）")
    for f in review["flags"]:
        typer.echo(f"  {evidence_sentence(f)}")
