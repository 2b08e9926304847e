"""Stored files (evidence, ledgers, scans): an allow-list checked by content, a size
limit, and content-addressed storage under DATA_DIR so the same bytes are kept once."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from pathlib import Path

from sqlmodel import Session

from models import Attachment, utcnow
from oversight.errors import InvalidInputError
from oversight.files import write_atomic

MAX_BYTES = 20 * 1024 * 1024  # Telegram's getFile limit for bots: a larger file cannot be fetched anyway
FILENAME_MAX = 120

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS: dict[str, str] = {PDF: ".pdf", XLSX: ".xlsx", JPEG: ".jpg", PNG: ".png"}
TYPE_LABELS: dict[str, str] = {PDF: "PDF", XLSX: "Excel 表格（xlsx）", JPEG: "JPEG 图片", PNG: "PNG 图片"}
ALLOWED_TEXT = "PDF、Excel 表格（.xlsx）、JPEG/PNG 图片"


class AttachmentRejectedError(InvalidInputError):
    message = f"文件类型不受支持。仅接受：{ALLOWED_TEXT}。"


def detect_type(data: bytes) -> str | None:
    """The allowed MIME type the bytes really are, or None (names and claimed types are not trusted)."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"PK\x03\x04"):
        # Any zip starts like this (docx, apk, jar…): an xlsx has its workbook part.
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return XLSX
    return None


def sanitize_filename(filename: str, mime_type: str) -> str:
    """A display name with no directory parts or control characters, ending in the real type's extension."""
    name = (filename or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" .")
    ext = EXTENSIONS[mime_type]
    stem = name[: -len(Path(name).suffix)] if Path(name).suffix else name
    stem = stem[: FILENAME_MAX - len(ext)] or "file"
    if ext == ".jpg" and Path(name).suffix.lower() == ".jpeg":
        ext = ".jpeg"
    return stem + ext


def check_file(*, data: bytes, filename: str = "") -> str:
    """The real MIME type of an acceptable file; raises AttachmentRejectedError otherwise."""
    if len(data) == 0:
        raise AttachmentRejectedError(f"文件“{filename or '未命名'}”是空文件，请重新上传。")
    if len(data) > MAX_BYTES:
        raise AttachmentRejectedError(
            f"文件“{filename or '未命名'}”过大（{len(data) / 1024 / 1024:.1f} MB），单个文件不能超过 20 MB。"
        )
    mime = detect_type(data)
    if mime is None:
        raise AttachmentRejectedError(
            f"文件“{filename or '未命名'}”的类型不受支持（按文件内容判断，而非文件名）。仅接受：{ALLOWED_TEXT}。"
        )
    return mime


def blob_path(data_dir: Path, sha256: str) -> Path:
    """Where the bytes with this hash are kept."""
    return data_dir / "attachments" / sha256[:2] / sha256


def _write_once(path: Path, data: bytes) -> None:
    """Write atomically; content-addressed, so an existing file of that size is already right."""
    if path.exists() and path.stat().st_size == len(data):
        return
    write_atomic(path, data)


def store_attachment(
    *,
    session: Session,
    data: bytes,
    filename: str,
    mime_type: str,
    data_dir: Path,
    report_id: int | None = None,
    problem_event_id: int | None = None,
    explanation_id: int | None = None,
    rectification_followup_id: int | None = None,
) -> Attachment:
    """Check and keep a file; returns its Attachment row (the claimed `mime_type` is
    replaced by the type the content really is)."""
    del mime_type  # the content decides, never the sender's claim
    real = check_file(data=data, filename=filename)
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(Path(data_dir), digest)
    _write_once(path, data)
    row = Attachment(
        report_id=report_id,
        problem_event_id=problem_event_id,
        explanation_id=explanation_id,
        rectification_followup_id=rectification_followup_id,
        filename=sanitize_filename(filename, real),
        mime_type=real,
        size=len(data),
        sha256=digest,
        path=str(path.relative_to(Path(data_dir))),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def read_attachment(*, attachment: Attachment, data_dir: Path) -> bytes:
    """The stored bytes of an attachment, checked against its hash."""
    data = (Path(data_dir) / attachment.path).read_bytes()
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        raise InvalidInputError(f"附件“{attachment.filename}”已损坏（校验值不符），请重新上传。")
    return data


def is_unlinked(attachment: Attachment) -> bool:
    """True while an uploaded file belongs to nothing yet."""
    return (
        attachment.report_id is None
        and attachment.problem_event_id is None
        and attachment.explanation_id is None
        and attachment.rectification_followup_id is None
    )
