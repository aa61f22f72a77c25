from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class LimitedJSONParser(JSONParser):
    """JSON with a size limit that answers 400 in JSON instead of failing deep in the request."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            too_big = int(length or 0) > settings.API_MAX_BODY_BYTES
        except ValueError:
            too_big = True
        if too_big:
            raise ParseError(_("The request body is too large."))
        return super().parse(stream, media_type, parser_context)
