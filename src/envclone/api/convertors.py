"""A path convertor that matches any non-empty text, newlines and (decoded) slashes included, so
that unsafe file names reach the name check and get its 400 instead of a routing 404."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class AnyTextConvertor(Convertor[str]):
    regex = r"[\s\S]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anytext", AnyTextConvertor())
