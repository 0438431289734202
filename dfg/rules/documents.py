"""What a document attached to a case may be: its type told from its content (never its name), a safe
file name, and the size limit."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile

#: The types a case file holds: the OT's report, photographs, quotes, invoices, spreadsheets.
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: What a document is, for the case file's list.
DOCUMENT_KINDS = ("ot_report", "photo", "quote", "invoice", "plan", "correspondence", "other")
DEFAULT_LIMIT_MB = 20
_UNSAFE = re.compile(r"[^\w.\- ()]+")


def document_type(content: bytes) -> str | None:
    """``pdf``, ``jpeg``, ``png``, ``docx`` or ``xlsx`` from the first bytes (and, for Office files, the
    parts inside the zip), or None for anything else."""
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "[Content_Types].xml" in names:
            if "word/document.xml" in names:
                return "docx"
            if "xl/workbook.xml" in names:
                return "xlsx"
    return None


def safe_file_name(name: str, kind: str) -> str:
    """The name as given, without folders, control characters or anything a file system or a browser may
    misread, at most 120 characters, with the extension of the type its content has."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _UNSAFE.sub("_", "".join(c for c in stem if c.isprintable())).strip(" ._") or "document"
    return f"{stem[:110]}.{'jpg' if kind == 'jpeg' else kind}"
