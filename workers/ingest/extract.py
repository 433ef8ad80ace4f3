"""Text extraction with real libraries, keeping the page or heading each section came from."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


class ExtractionError(Exception):
    """The document cannot be read; the message is shown to the admin."""


@dataclass(frozen=True)
class Section:
    text: str
    page: int | None = None
    heading: str | None = None


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Limits:
    """How far extraction may go before the document is refused (MAX_DOCUMENT_* settings)."""

    pages: int = 2000
    chars: int = 5_000_000
    seconds: float = 300.0
    started: float = field(default_factory=time.monotonic)

    def bounded(self, sections: Iterable[Section]) -> Iterator[Section]:
        """The sections, checked against the character and time limits as they come."""
        chars = 0
        for section in sections:
            chars += len(section.text)
            if chars > self.chars:
                raise ExtractionError(f"the document has over {self.chars} characters of text")
            if time.monotonic() - self.started > self.seconds:
                raise ExtractionError(f"extracting the text took over {self.seconds:.0f} s")
            yield section


def extract(data: bytes, content_type: str, limits: Limits | None = None) -> list[Section]:
    limits = limits or Limits()
    if content_type == "application/pdf":
        found: Iterable[Section] = extract_pdf(data, limits)
    elif content_type.endswith("wordprocessingml.document"):
        found = extract_docx(data)
    elif content_type == "text/html":
        found = extract_html(data.decode("utf-8", errors="replace"))
    elif content_type == "text/markdown":
        found = extract_markdown(data.decode("utf-8", errors="replace"))
    else:
        found = [Section(data.decode("utf-8", errors="replace"))]
    sections = [s for s in limits.bounded(found) if s.text.strip()]
    if not sections:
        raise ExtractionError("no text could be extracted from the document")
    return sections


def extract_pdf(data: bytes, limits: Limits) -> Iterator[Section]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ExtractionError("the PDF is encrypted; upload an unprotected copy")
        if len(reader.pages) > limits.pages:
            raise ExtractionError(f"the PDF has {len(reader.pages)} pages, over {limits.pages}")
        for number, page in enumerate(reader.pages, start=1):
            yield Section(page.extract_text() or "", page=number)
    except ExtractionError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractionError(f"the PDF is damaged or unreadable ({type(exc).__name__})") from exc


def extract_docx(data: bytes) -> list[Section]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise ExtractionError("the .docx file is damaged or unreadable") from exc
    sections: list[Section] = []
    heading: str | None = None
    lines: list[str] = []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        if style.lower().startswith(("heading", "title")) and paragraph.text.strip():
            sections.append(Section("\n".join(lines), heading=heading))
            heading, lines = paragraph.text.strip(), []
        else:
            lines.append(paragraph.text)
    sections.append(Section("\n".join(lines), heading=heading))
    return sections


def extract_html(html: str) -> list[Section]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    sections: list[Section] = []
    heading: str | None = None
    lines: list[str] = []
    body = soup.body or soup
    for element in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td"]):
        text = element.get_text(" ", strip=True)
        if not text:
            continue
        if element.name and element.name[0] == "h" and element.name[1:].isdigit():
            sections.append(Section("\n".join(lines), heading=heading))
            heading, lines = text, []
        else:
            lines.append(text)
    sections.append(Section("\n".join(lines), heading=heading))
    if not any(s.text.strip() for s in sections):  # markup without block tags
        return [Section(body.get_text("\n", strip=True))]
    return sections


def extract_markdown(text: str) -> list[Section]:
    sections: list[Section] = []
    heading: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        match = _MD_HEADING.match(line)
        if match:
            sections.append(Section("\n".join(lines), heading=heading))
            heading, lines = match.group(2), []
        else:
            lines.append(line)
    sections.append(Section("\n".join(lines), heading=heading))
    return sections
