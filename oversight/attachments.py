"""Stored files (evidence, ledgers, scans): an allow-list checked by content, a size
limit, and content-addressed storage under DATA_DIR so the same bytes are kept once."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from pathlib import Path

from sqlmodel import Session, col, select

from models import Attachment, row_id, utcnow
from oversight.errors import InvalidInputError
from oversight.facts import Chat
from oversight.files import write_atomic
from oversight.inputlimits import check_image, check_xlsx

MAX_BYTES = 20 * 1024 * 1024  # Telegram's getFile limit for bots: a larger file cannot be fetched anyway
FILENAME_MAX = 120

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JPEG = "image/jpeg"
PNG = "image/png"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOC = "application/msword"
WPS = "application/vnd.ms-works"  # WPS 文字's .wps: the Word 97-2003 binary under WPS's name
XLS = "application/vnd.ms-excel"
OFD = "application/ofd"  # GB/T 33190 版式文档
ZIP = "application/zip"  # a zip of scans: every file in it a PDF, JPEG or PNG
EXTENSIONS: dict[str, str] = {
    PDF: ".pdf",
    XLSX: ".xlsx",
    JPEG: ".jpg",
    PNG: ".png",
    DOCX: ".docx",
    DOC: ".doc",
    WPS: ".wps",
    XLS: ".xls",
    OFD: ".ofd",
    ZIP: ".zip",
}
TYPE_LABELS: dict[str, str] = {
    PDF: "PDF",
    XLSX: "Excel 表格（xlsx）",
    JPEG: "JPEG 图片",
    PNG: "PNG 图片",
    DOCX: "Word 文档（docx）",
    DOC: "Word 文档（doc）",
    WPS: "WPS 文字（wps）",
    XLS: "Excel 表格（xls）",
    OFD: "OFD 版式文件",
    ZIP: "扫描件压缩包（zip）",
}
ALLOWED_TEXT = "PDF、OFD、Word（.doc/.docx）、WPS、Excel（.xls/.xlsx）、JPEG/PNG 图片，或装有扫描件（PDF/图片）的 .zip"
SCANS = (PDF, JPEG, PNG)  # what a zip of scans may hold
ZIP_MEMBERS_MAX = 2000  # entries a docx, xlsx or OFD may list before it is not looked into
SCAN_ZIP_FILES_MAX = 200
SCAN_ZIP_UNPACKED_MAX = 200 * 1024 * 1024  # declared sizes; a member is also read only 8 bytes
ZIP_RATIO_MAX = 200  # a member that claims more than this many times its packed size is a bomb
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class AttachmentRejectedError(InvalidInputError):
    message = f"文件类型不受支持。仅接受：{ALLOWED_TEXT}。"


def _scan_type(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def _ole_type(data: bytes, filename: str) -> str | None:
    """A Word or Excel 97-2003 binary (WPS writes the same), by the streams it holds."""
    import olefile  # only for these files

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if ole.exists("WordDocument"):
                return WPS if filename.lower().endswith(".wps") else DOC
            if ole.exists("Workbook") or ole.exists("Book"):
                return XLS
    except Exception:  # noqa: BLE001 - any defect of a compound file means: not one we take
        return None
    return None


def _zip_type(data: bytes) -> str | None:
    """An xlsx, docx or OFD by its parts; else a zip of scans, each file checked by its first
    bytes, bounded in count, declared size and packing ratio (never unpacked here)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > ZIP_MEMBERS_MAX:
                return None
            names = {i.filename for i in infos}
            if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
                return XLSX
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return DOCX
            if "OFD.xml" in names:
                return OFD
            files = [i for i in infos if not i.is_dir()]
            if not files or len(files) > SCAN_ZIP_FILES_MAX:
                return None
            if sum(i.file_size for i in files) > SCAN_ZIP_UNPACKED_MAX:
                return None
            for info in files:
                if info.flag_bits & 0x1 or info.file_size > ZIP_RATIO_MAX * max(info.compress_size, 1):
                    return None  # encrypted, or a bomb
                with zf.open(info) as member:
                    if _scan_type(member.read(8)) is None:
                        return None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, NotImplementedError, EOFError, OSError):
        return None
    return ZIP


def detect_type(data: bytes, filename: str = "") -> str | None:
    """The allowed MIME type the bytes really are, or None (names and claimed types are not
    trusted; a name only tells WPS's .wps from Word's .doc, which are the same binary)."""
    scan = _scan_type(data[:8])
    if scan is not None:
        return scan
    if data.startswith(OLE_MAGIC):
        return _ole_type(data, filename)
    if data.startswith(b"PK\x03\x04"):
        return _zip_type(data)
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
            f"文件“{filename or '未命名'}”过大（{len(data) / 1024 / 1024:.1f} MB），单个文件不能超过20 MB。"
        )
    mime = detect_type(data, filename)
    if mime is None:
        raise AttachmentRejectedError(
            f"文件“{filename or '未命名'}”的类型不受支持（按文件内容判断，而非文件名）。仅接受：{ALLOWED_TEXT}。"
        )
    if mime == XLSX:
        check_xlsx(data, name=filename)
    elif mime in (JPEG, PNG):
        check_image(data, name=filename)
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
        and attachment.decision_id is None
    )


# The lines about the files a conversation holds (oversight.facts.Chat), each counting and citing
# the attachment rows it names: what just arrived, what is already attached, the confirm line.
FILE_TEXTS: dict[str, str] = {
    "received": "已收到{what}：{name}（共{n}个）。可继续发送，或点“完成上传”。",
    "received_first": "已收到{what}：{name}。可继续发送，或点“完成上传”。",
    "kept": "已带附件：{names}（共{n}个）。如需更多附件（{allowed}，单个不超过20 MB），请继续发送；全部发送后点“完成上传”。",
    "kept_one": "已带附件：{names}。如需更多附件（{allowed}，单个不超过20 MB），请继续发送；全部发送后点“完成上传”。",
    "listed": "{n}个（{names}）",
    "listed_one": "{names}",
    "listed_none": "无",
}
FILE_NOUNS = {"report": "附件", "problem": "材料"}  # what a file is called in each flow


def _held(session: Session, attachment_ids: Sequence[int]) -> list[Attachment]:
    """The attachment rows of `attachment_ids`, in that order (an id with no row is not counted)."""
    rows = {row_id(a): a for a in session.exec(select(Attachment).where(col(Attachment.id).in_(attachment_ids))).all()}
    return [rows[i] for i in dict.fromkeys(attachment_ids) if i in rows]


def files_received(*, session: Session, attachment_ids: Sequence[int], flow: str) -> Chat:
    """The answer to a file just kept in a report or problem being written (the last of
    `attachment_ids`): its name and, from the second on, how many the conversation now holds."""
    held = _held(session, attachment_ids)
    say = Chat(FILE_TEXTS)
    if not held:
        raise InvalidInputError("文件未能保存，请重新发送。")
    ids = {"attachment": [row_id(a) for a in held]}
    kind = "received_first" if len(held) == 1 else "received"
    say.fact(kind, ids, what=FILE_NOUNS[flow], name=held[-1].filename, n=len(held))
    return say


def files_kept(*, session: Session, attachment_ids: Sequence[int]) -> Chat:
    """The files a report starts with (sent before it began), named, with the invitation to add more."""
    held = _held(session, attachment_ids)
    say = Chat(FILE_TEXTS)
    if held:
        ids = {"attachment": [row_id(a) for a in held]}
        names = "、".join(a.filename for a in held)
        say.fact("kept_one" if len(held) == 1 else "kept", ids, names=names, n=len(held), allowed=ALLOWED_TEXT)
    return say


def files_listed(*, session: Session, attachment_ids: Sequence[int]) -> Chat:
    """The confirm line's files: 无, the one file's name, or how many and their names."""
    held = _held(session, attachment_ids)
    say = Chat(FILE_TEXTS)
    names = "、".join(a.filename for a in held)
    ids = {"attachment": [row_id(a) for a in held]} if held else None
    say.fact({0: "listed_none", 1: "listed_one"}.get(len(held), "listed"), ids, names=names, n=len(held))
    return say
