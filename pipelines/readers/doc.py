"""Old Word (.doc) and WPS files, read through a real converter: LibreOffice to DOCX.

antiword and catdoc flatten tables to text; LibreOffice keeps the grid and its
merged cells, so the DOCX reader sees what the agency drew.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..document import Document, UnreadableDocument

CONVERT_TIMEOUT = 120


def libreoffice_convert(data: bytes, source_ext: str, target: str, timeout: int = CONVERT_TIMEOUT) -> bytes:
    """Convert a document with LibreOffice headless, in a private profile so runs can overlap."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise UnreadableDocument("LibreOffice (soffice) is not installed: cannot read .doc/.wps")
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as tmp:
        src = Path(tmp) / f"in.{source_ext}"
        src.write_bytes(data)
        command = [soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless"]
        command += ["--convert-to", target, "--outdir", tmp, str(src)]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise UnreadableDocument(f"LibreOffice took longer than {timeout}s") from exc
        except subprocess.CalledProcessError as exc:
            raise UnreadableDocument(f"LibreOffice failed: {exc.stderr.decode(errors='replace')[:200]}") from exc
        out = Path(tmp) / f"in.{target.split(':')[0]}"
        if not out.exists() or out.stat().st_size == 0:
            raise UnreadableDocument(f"LibreOffice could not convert this .{source_ext} file")
        return out.read_bytes()


def read_doc(data: bytes) -> Document:
    from .docx import read_docx

    doc = read_docx(libreoffice_convert(data, "doc", "docx"))
    doc.format = "doc"
    return doc
