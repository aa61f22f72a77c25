"""Every error of the API answered as problem details (RFC 9457), with the fields named on bad input."""

from http import HTTPStatus

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: gettext_lazy("Bad request"),
    401: gettext_lazy("Not authenticated"),
    403: gettext_lazy("Not allowed"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    406: gettext_lazy("Not acceptable"),
    409: gettext_lazy("Conflict"),
    415: gettext_lazy("Unsupported media type"),
    429: gettext_lazy("Too many requests"),
}


def _title(status: int) -> str:
    if status in TITLES:
        return str(TITLES[status])
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def problem_exception_handler(exc, context):
    """DRF's handler (status, WWW-Authenticate, Retry-After), with the body as problem details."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    problem = {"type": "about:blank", "title": _title(response.status_code), "status": response.status_code}
    if isinstance(exc, ValidationError):
        errors = response.data
        if not isinstance(errors, dict):
            errors = {api_settings.NON_FIELD_ERRORS_KEY: errors}
        problem["detail"] = _("The request has errors in: %(fields)s.") % {
            "fields": ", ".join(map(str, errors))
        }
        problem["errors"] = errors
    else:
        detail = response.data.get("detail") if isinstance(response.data, dict) else response.data
        problem["detail"] = str(detail)
    response.data = problem
    view = context.get("view")
    renderers = view.get_renderers() if view is not None else []
    # A view that answers in plain text (the log's checkpoint) keeps its own media type.
    if not renderers or renderers[0].media_type.endswith("json"):
        response.content_type = PROBLEM_JSON
    return response
