from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No request of the API nests deeper than a few levels; anything much deeper is refused before a
# serializer (or the error answer echoing it) has to walk it.
MAX_JSON_DEPTH = 32


def _refuse_surrogates(text: str) -> None:
    # json.loads turns "\ud800" into a lone surrogate: not Unicode text, so it cannot be stored,
    # logged or echoed back as UTF-8.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError(_("The request body contains text that is not valid Unicode.")) from None


def check_json_value(value) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH and text that is not valid Unicode, without recursion."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _refuse_surrogates(item)
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise ParseError(
                    _("The request body is nested more than %(depth)d levels deep.")
                    % {"depth": MAX_JSON_DEPTH}
                )
            if isinstance(item, dict):
                for key in item:
                    _refuse_surrogates(key)
                children = item.values()
            else:
                children = item
            pending.extend((child, depth + 1) for child in children)


class LimitedJSONParser(JSONParser):
    """JSON with limits on size and depth and only valid Unicode text, all answered 400 instead of
    failing deep in the request, so every endpoint gets them at once."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            too_big = int(length or 0) > settings.API_MAX_BODY_BYTES
        except ValueError:
            too_big = True
        if too_big:
            raise ParseError(_("The request body is too large."))
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # Deep nesting well under the size limit exhausts the JSON decoder's stack.
            raise ParseError(
                _("The request body is nested more than %(depth)d levels deep.") % {"depth": MAX_JSON_DEPTH}
            ) from None
        check_json_value(data)
        return data
