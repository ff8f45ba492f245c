"""What a file is, read from its first bytes and (for a zip or an OLE2 file) its parts, against
the allow-list of evidence types; never from its name or the type the client claims.

A short table of signatures rather than libmagic: the allow-list is small, and two of its
entries (Office's and OpenDocument's zips) need the zip's own table of contents to tell them
from any other zip, which a generic signature library does not read.
"""

from __future__ import annotations

import io
import re
import zipfile

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
TEXT = "text/plain"
CSV = "text/csv"
EML = "message/rfc822"
MSG = "application/vnd.ms-outlook"
OLE2 = "application/x-ole-storage"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
# The Office formats from before 2007, still what many organisations' templates are.
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
PPT = "application/vnd.ms-powerpoint"

# Office Open XML: the part that names the document's kind.
_OOXML_PARTS = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX, "ppt/presentation.xml": PPTX}
_ODF_TYPES = frozenset({ODT, ODS, ODP})
# The legacy Office formats are OLE2 files too; an .msg is told apart by its streams' names.
_MSG_STREAM = "__substg1.0_".encode("utf-16-le")
# An OLE2 file's kind by the stream its application keeps its content in (names in UTF-16).
_OLE2_STREAMS = (
    (_MSG_STREAM, MSG),
    ("WordDocument".encode("utf-16-le"), DOC),
    ("Workbook".encode("utf-16-le"), XLS),
    ("Book\0".encode("utf-16-le"), XLS),
    ("PowerPoint Document".encode("utf-16-le"), PPT),
)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?.*$")
_MAIL_HEADERS = frozenset(
    {
        b"from",
        b"to",
        b"subject",
        b"date",
        b"message-id",
        b"received",
        b"return-path",
        b"mime-version",
    }
)
# What looks like markup sent under a text name: a page is not evidence text.
_MARKUP = re.compile(rb"^\s*<(!doctype|html|head|body|script|svg|\?xml)", re.IGNORECASE)

ALLOWED = (
    PDF,
    DOCX,
    XLSX,
    PPTX,
    ODT,
    ODS,
    ODP,
    DOC,
    XLS,
    PPT,
    PNG,
    JPEG,
    GIF,
    WEBP,
    TEXT,
    CSV,
    EML,
    MSG,
)
# The file name's ending each type is saved with, when the uploaded name has another.
EXTENSIONS = {
    PDF: (".pdf",),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
    PPTX: (".pptx",),
    ODT: (".odt",),
    ODS: (".ods",),
    ODP: (".odp",),
    DOC: (".doc",),
    XLS: (".xls",),
    PPT: (".ppt",),
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg"),
    GIF: (".gif",),
    WEBP: (".webp",),
    TEXT: (".txt", ".md", ".log"),
    CSV: (".csv",),
    EML: (".eml",),
    MSG: (".msg",),
}


def _zip_type(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                return declared if declared in _ODF_TYPES else None
            if "[Content_Types].xml" in names:
                for part, media_type in _OOXML_PARTS.items():
                    if part in names:
                        return media_type
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None
    return None


def _text_type(content: bytes, name: str) -> str | None:
    if b"\x00" in content:
        return None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if _MARKUP.match(content):
        return None
    if _is_mail(content):
        return EML
    if name.lower().endswith(".csv") or _looks_like_csv(text):
        return CSV
    return TEXT


def _is_mail(content: bytes) -> bool:
    head, _, _ = content.replace(b"\r\n", b"\n").partition(b"\n\n")
    lines = head.split(b"\n")
    names: set[bytes] = set()
    for line in lines:
        if line[:1] in (b" ", b"\t"):  # a folded header goes on
            continue
        if not _HEADER_LINE.match(line):
            return False
        names.add(line.split(b":", 1)[0].lower())
    return len(names & _MAIL_HEADERS) >= 2 and bool(names & {b"from", b"to"})


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    for separator in (",", ";", "\t"):
        counts = {line.count(separator) for line in lines}
        if len(counts) == 1 and counts.pop() > 0:
            return True
    return False


def sniff(content: bytes, name: str = "") -> str | None:
    """Return the media type the content is, if it is one of the allowed evidence types."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return WEBP
    if content.startswith(b"PK\x03\x04"):
        return _zip_type(content)
    if content.startswith(_OLE2_MAGIC):
        return next((kind for stream, kind in _OLE2_STREAMS if stream in content), None)
    if not content:
        return None
    return _text_type(content, name)


_UNSAFE = re.compile(r"[^\w.\- ()+,@=]+", re.UNICODE)


def safe_name(name: str | None, media_type: str) -> str:
    """Keep the uploaded file's name, without folders, controls or characters a file system or
    a header would take amiss; give it the ending of its real type when it has another."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" ._") or "evidence"
    stem, dot, ending = base.rpartition(".")
    if not dot:
        stem, ending = base, ""
    endings = EXTENSIONS.get(media_type, ())
    if endings and f".{ending.lower()}" not in endings:
        stem = base
        ending = endings[0][1:]
    stem = stem[: 190 - len(ending)]
    return f"{stem}.{ending}" if ending else stem
