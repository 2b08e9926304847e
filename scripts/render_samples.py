"""Rendered pages of each document type, for docs/samples/ (a reader sees the layout without
running anything).

    .venv/bin/python scripts/render_samples.py [--out docs/samples] [--dpi 60]

The brief, the notice draft and the review come from a generated quarter (tests/seed_quarter.py:
the 乌拉特中旗 plan with a quarter of reports and problems; the notice as the rules draft it, the
review of the half as issued); the minutes and the supervision order from the fixture data of
tests/test_layout.py (the templates jobs/minutes.py and jobs/supervision.py fill). Every page is marked 示例数据. Of each PDF the
pages kept are the first three, the first annex page and the last (版记), as 8-bit PNGs from
`pdftoppm`.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _pages_to_keep(pdf: Path) -> list[int]:
    from tests.pdfcheck import Document

    doc = Document(pdf)
    n = len(doc.pages)
    keep = {1, 2, 3, n}
    if doc.annex_start <= n:
        keep.add(doc.annex_start)
    return sorted(p for p in keep if 1 <= p <= n)


def _render(pdf: Path, name: str, out: Path, dpi: int) -> list[Path]:
    from PIL import Image

    written = []
    for page in _pages_to_keep(pdf):
        stem = out / f"{name}-{page:02d}"
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", "-singlefile", "-f", str(page), "-l", str(page), str(pdf), str(stem)],
            check=True,
        )
        png = stem.with_suffix(".png")
        Image.open(png).convert("RGB").quantize(colors=64).save(png, optimize=True)
        written.append(png)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "samples")
    parser.add_argument("--dpi", type=int, default=60)
    args = parser.parse_args()

    from datetime import UTC, datetime

    from sqlmodel import select

    from jobs.brief import build_brief
    from jobs.notices import draft_document
    from jobs.render import render_document
    from jobs.review import review_layout
    from models import Notice, Plan, make_engine, session_scope
    from models.migrate import upgrade
    from oversight.notices import NoticeState
    from oversight.review import build_review, review_document
    from tests.conftest import load_bundled_plan
    from tests.seed_quarter import seed_quarter
    from tests.test_layout import MINUTES, SUPERVISION

    mark = "示例数据：生成的季度数据，非真实工作数据"
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'q.db'}"
        upgrade(url)
        engine = make_engine(url)
        plan_id = load_bundled_plan(engine)
        now = datetime(2026, 4, 8, 1, tzinfo=UTC)
        half_end = datetime(2026, 7, 6, 2, tzinfo=UTC)
        with session_scope(engine) as s:
            seed_quarter(session=s, plan_id=plan_id)
            brief = build_brief(session=s, plan_id=plan_id, period="2026Q1", now=now, out_dir=work, sample=mark)
            # The notice as the rules draft it from the quarter's record (the seeded notices, a
            # published one without body or evidence, set aside in this rolled-back session).
            for n in s.exec(select(Notice).where(Notice.plan_id == plan_id)).all():
                n.state = NoticeState.DROPPED
                s.add(n)
            s.flush()
            notice_doc = draft_document(session=s, plan_id=plan_id, period="2026Q1", now=now)
            plan = s.get(Plan, plan_id)
            if plan is None:  # load_bundled_plan returned its id: the row is there
                raise RuntimeError(f"plan {plan_id} not found")
            review = build_review(session=s, plan_id=plan_id, period="2026H1", now=half_end)
            review_doc = review_layout(
                review_document(session=s, plan_id=plan_id, review=review, now=half_end),
                plan=plan,
                period="2026H1",
                issued=True,
            )
            s.rollback()
        engine.dispose()
        docs = {
            "brief": brief.pdf_path,
            "notice": render_document("notice", notice_doc, out=work / "notice.pdf", sample=mark).pdf,
            "review": render_document("review", review_doc, out=work / "review.pdf", sample=mark).pdf,
            "minutes": render_document("minutes", MINUTES, out=work / "minutes.pdf", sample=mark).pdf,
            "supervision": render_document("supervision", SUPERVISION, out=work / "supervision.pdf", sample=mark).pdf,
        }
        for name, pdf in docs.items():
            pngs = _render(pdf, name, args.out, args.dpi)
            print(name, " ".join(re.sub(r".*/", "", str(p)) for p in pngs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
