"""Multipart uploads: a body that is not multipart, or is broken, is refused before any view
reads it. Werkzeug parses forms silently (a broken body reads as an empty form), which would
answer a malformed upload with "send a file"; here the parse error itself is the answer."""

from __future__ import annotations

from typing import IO

from flask import Request, request
from werkzeug.datastructures import FileStorage
from werkzeug.formparser import FormDataParser

from app.errors import MalformedMultipart, UnsupportedMediaType

MULTIPART = "multipart/form-data"


class ApiRequest(Request):
    """Flask's request, with a form that fails to parse answered 400 (the temporary files of
    the parts read so far closed), not read as an empty form."""

    def make_form_data_parser(self) -> FormDataParser:
        return self.form_data_parser_class(
            stream_factory=self._get_file_stream,
            max_form_memory_size=self.max_form_memory_size,
            max_content_length=self.max_content_length,
            max_form_parts=self.max_form_parts,
            cls=self.parameter_storage_class,
            silent=False,
        )

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        stream = super()._get_file_stream(
            total_content_length, content_type, filename, content_length
        )
        self.__dict__.setdefault("_part_streams", []).append(stream)
        return stream

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except ValueError as exc:  # no boundary, a cut-off body, a part without a disposition
            for stream in self.__dict__.pop("_part_streams", []):
                stream.close()
            empty = self.parameter_storage_class()
            self.__dict__.update(form=empty, files=empty)  # later reads see no form, no error
            raise MalformedMultipart(f"the multipart body is malformed: {exc}") from exc


def is_multipart() -> bool:
    return request.mimetype == MULTIPART


def multipart_files(field: str) -> list[FileStorage]:
    """The files sent in ``field`` of a multipart body (413 past the body limit)."""
    if not is_multipart():
        raise UnsupportedMediaType(f"send the upload as {MULTIPART} (field '{field}')")
    if field in request.form:
        raise MalformedMultipart(f"the part '{field}' has no filename: send it as a file")
    return request.files.getlist(field)
