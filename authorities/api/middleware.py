"""The decision endpoints' common questions answered before most of the middleware stack.

``POST /api/v1/decisions`` is asked every time an attorney acts somewhere, and the portal's stack
(sessions, locale, CSRF, authentication, messages, the act-for check …) cost about as much as the
decision itself, though none of it has anything to do with an authority's system asking a question.
``DecisionMiddleware`` sits right after the security headers, the request id and WhiteNoise. For a
request the fast path takes (``fastpath.read_question``, or ``read_batch`` for
``POST /api/v1/decisions/batch``) it calls the view itself and then adds exactly what the rest of
the stack would have added to the answer; anything else (a cookie, a question the fast path leaves
to DRF, another URL or method) goes down the whole stack unchanged. The answer is the same either
way – status, body and headers; ``tests/authorities/test_api_middleware.py`` compares them.
"""

import time

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.core.handlers.exception import response_for_exception
from django.core.signals import setting_changed
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.locale import LocaleMiddleware
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.http import http_date

from portal.middleware import api_language

from . import fastpath, views


def _unused(request):  # the response phases below are called directly, never as a chain
    raise AssertionError("not a middleware chain")


class DecisionMiddleware:
    """Answers the common decision questions without the middleware below it (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response
        # What the middleware below would add to a decision, in the order it would: the security
        # policy and framing, no-store, the length, the language. Their own code, not a copy of it.
        self.csp = CSPMiddleware(_unused)
        self.framing = XFrameOptionsMiddleware(_unused)
        self.common = CommonMiddleware(_unused)
        self.locale = LocaleMiddleware(_unused)
        # The decision endpoints' views (reached through the URLconf) and how the fast path reads
        # a request for each; the paths found to lead to them.
        self._fast_paths = {views.decision_view: "read_question", views.decision_batch_view: "read_batch"}
        self.decision_paths: dict[str, object] = {}
        # What the stack below added to a 200 answer, by language and the view's own headers: the
        # same every time but for the moment (Expires) and the length, since the content security
        # policy depends only on the settings (no nonce, no per-view policy here). So it is worked
        # out once, and again if the settings change.
        self.added_headers: dict[tuple, list[tuple[str, str]]] = {}
        setting_changed.connect(self._forget_added_headers)

    def _forget_added_headers(self, **kwargs) -> None:
        self.added_headers.clear()

    def __call__(self, request):
        view = self._for_fast_path(request)
        if view is None:
            return self.get_response(request)
        # The language as LocaleMiddleware and PreferredLanguageMiddleware pick it for the API.
        language = api_language(request.headers.get("Accept-Language", ""))
        translation.activate(language)
        request.LANGUAGE_CODE = language
        read = getattr(fastpath, self._fast_paths[view])
        try:
            response = view(request) if read(request) is not None else None
        except Exception as error:  # as Django's handler turns it into an answer, below the middleware
            response = response_for_exception(request, error)
        if response is None:
            return self.get_response(request)
        return self._as_the_stack_below_would(request, response)

    def _as_the_stack_below_would(self, request, response):
        if response.status_code != 200 or response.streaming:
            return self._through_the_stack_below(request, response)
        key = (request.LANGUAGE_CODE, tuple(response.items()))
        added = self.added_headers.get(key)
        if added is not None:
            for name, value in added:
                if name == "Expires":
                    value = http_date(time.time())  # as add_never_cache_headers writes it
                elif name == "Content-Length":
                    value = str(len(response.content))  # as CommonMiddleware writes it
                response[name] = value
            return response
        own = dict(response.items())
        response = self._through_the_stack_below(request, response)
        # Remembered only if the stack below added headers after the view's and changed none of them.
        names = [name for name, _value in response.items()]
        if names[: len(own)] == list(own) and all(response[name] == value for name, value in own.items()):
            self.added_headers[key] = [(name, value) for name, value in response.items() if name not in own]
        return response

    def _through_the_stack_below(self, request, response):
        response = self.csp.process_response(request, response)
        response = self.framing.process_response(request, response)
        add_never_cache_headers(response)  # portal.middleware.NoStoreMiddleware: every API answer
        response = self.common.process_response(request, response)
        response = self.locale.process_response(request, response)
        # SessionMiddleware: the act-for check reads the (empty) session of every request.
        patch_vary_headers(response, ("Cookie",))
        return response

    def _for_fast_path(self, request):
        """The fast path's view for a POST to a decision endpoint that the middleware below would
        pass through untouched: no cookie (no session, CSRF token or messages to look after) and no
        setting that makes CommonMiddleware refuse or redirect a request. Else None."""
        if request.method != "POST" or request.META.get("HTTP_COOKIE"):
            return None
        if settings.DISALLOWED_USER_AGENTS or settings.PREPEND_WWW:
            return None
        path = request.path_info
        view = self.decision_paths.get(path)
        if view is not None or not path.endswith(("/decisions", "/decisions/batch")):
            return view
        try:
            view = resolve(path).func
        except Resolver404:
            return None
        if view not in self._fast_paths:
            return None
        self.decision_paths[path] = view
        return view
