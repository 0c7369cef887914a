"""Hostile input stops at the door: nesting, NUL characters and oversized bodies answer 400/413."""

import json
import re

from django.conf import settings
from django.http import HttpResponseBadRequest
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

JSON_MAX_DEPTH = 32
NUL_MESSAGE = "NUL characters are not allowed."
SURROGATE_MESSAGE = "Text must be valid Unicode: a lone surrogate (\\ud800-\\udfff) is not."
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_ESCAPED_NUL = re.compile(r"\\u0000", re.IGNORECASE)


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest, counted without recursion (strings skipped)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, bounded: body size, nesting depth, and no NUL in any string."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit // (1024 * 1024)} MB.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"The body is not valid {encoding}.") from exc
        if json_depth(text) > JSON_MAX_DEPTH:
            raise ParseError(f"JSON nests deeper than {JSON_MAX_DEPTH} levels.")
        if "\x00" in text or _ESCAPED_NUL.search(text):
            raise ParseError(NUL_MESSAGE)
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error: {exc}") from exc
        if not all(_is_unicode(s) for s in _strings(data)):
            raise ParseError(SURROGATE_MESSAGE)
        return data


def _strings(data):
    """Every string in parsed JSON, keys too, without recursion."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _is_unicode(text: str) -> bool:
    # JSON may escape half of a surrogate pair ("\ud800"); no database column can store it.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows.")


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RejectNulMiddleware:
    """A NUL in the path, the query string or a form field answers 400 before any filter,
    form or query sees it (PostgreSQL cannot store one, and a lookup with one fails)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query.lower() or "\x00" in query:
            return _refuse_nul()
        if request.method == "POST" and request.content_type in FORM_TYPES:
            # Form fields only: an uploaded file may hold NUL bytes. DRF reuses what Django
            # parsed here, so the body is read once.
            fields = request.POST
            if any(
                "\x00" in key or "\x00" in value for key in fields for value in fields.getlist(key)
            ):
                return _refuse_nul()
        return self.get_response(request)


def _refuse_nul():
    return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
