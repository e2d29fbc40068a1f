"""Multipart uploads, refused with 413 before more than the size cap is read."""

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from app.config import Settings, get_settings
from app.errors import UnsupportedMedia, invalid, too_large

SettingsDep = Annotated[Settings, Depends(get_settings)]
MULTIPART_SLACK = 64 * 1024
"""Room for the multipart boundaries and part headers around the file itself."""

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "XLSX, or CSV in UTF-8 (with or without BOM) or "
                            "GBK/GB18030, in the standard table layout",
                        }
                    },
                },
                # what curl sends: curl -F file=@目录.xlsx …
                "example": {"file": "(binary contents of 目录.xlsx)"},
            }
        },
    }
}
"""The body read_upload parses, for the OpenAPI document (FastAPI cannot see it)."""


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


async def _capped(stream: AsyncIterator[bytes], limit: int, cap: int) -> AsyncGenerator[bytes]:
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > limit:
            raise too_large(cap, "文件", "file")
        yield chunk


async def read_upload(request: Request, settings: SettingsDep) -> Upload:
    """The multipart field `file`; the body is streamed and never held beyond the cap.

    A declared Content-Length over the cap is refused before reading anything.
    """
    cap = settings.max_upload_bytes
    limit = cap + MULTIPART_SLACK
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(cap, "文件", "file")
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise UnsupportedMedia(
            "请以 multipart/form-data 上传，文件字段名为 file / send multipart/form-data with "
            "the file in the field `file`"
        )
    parser = MultiPartParser(
        request.headers, _capped(request.stream(), limit, cap), max_files=1, max_fields=10
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise invalid(
            ("body", "file"), f"multipart 格式错误 / malformed multipart body: {exc}", "multipart"
        ) from exc
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise invalid(
                ("body", "file"),
                "缺少文件字段 file / the multipart field `file` is required",
                "missing",
            )
        data = await upload.read()
    finally:
        await form.close()
    if len(data) > cap:
        raise too_large(cap, "文件", "file")
    return Upload(filename=_filename(upload.filename or ""), data=data)


MAX_FILENAME = 255


def _filename(name: str) -> str:
    """The rules of every text field: a name goes into the report and the history."""
    if len(name) > MAX_FILENAME or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise invalid(
            ("body", "file"),
            f"文件名须不超过 {MAX_FILENAME} 个字符且不含控制字符 / the filename must be at most "
            f"{MAX_FILENAME} characters, without control characters",
            "filename",
        )
    return name


UploadDep = Annotated[Upload, Depends(read_upload)]
