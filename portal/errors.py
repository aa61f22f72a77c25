"""The one family of refusals every service raises, and what each surface makes of them.

- ``NotAllowed``: the acting person may not do this – not theirs, no right, identity not verified.
  Pages answer 403 with the message (``templates/403.html``), the API 403, the admin its own 403.
- ``Conflict``: the thing is not in a state that allows it – already answered, already ended.
- ``Invalid``: the input is wrong; the message (per field where there is one) says how.

``Conflict`` and ``Invalid`` are ``ValidationError``s, so forms show them where they belong
(``portal.forms.add_service_errors``); ``NotAllowed`` is a ``PermissionDenied``.
"""

from django.core.exceptions import PermissionDenied, ValidationError


class NotAllowed(PermissionDenied):
    pass


class Conflict(ValidationError):
    pass


class Invalid(ValidationError):
    pass
