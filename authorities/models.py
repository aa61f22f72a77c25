"""The app's models, each defined on its floor (see README, "Layout"), gathered here because Django
looks for an app's models in ``authorities.models``; migrations also name some of these paths.
Code imports a model from its own floor, never from here."""

from .applications.models import (
    Application,
    ApplicationForm,
    ApplicationStatus,
    ApplicationValueKind,
    application_attachment_path,
)
from .catalogue.models import (
    Authority,
    AuthorityMembership,
    CitizenFile,
    CitizenFileGroupObjectPermission,
    CitizenFileUserObjectPermission,
    InPeriodPermissionManager,
    Right,
    Service,
    TranslatedNameMixin,
    permission_codename_for,
    private_storage,
)
from .clients.models import ApiClient
from .consent.models import Consent, ConsentRequest, ConsentRequestStatus, ConsentStatus, DataCategory
from .datause.models import DataUse, DataUseBasis, RefusalReason, RefusedDataUse
from .events.models import AuthorityEvent, DeliveryStatus, WebhookDelivery
from .post.models import Letter, LetterRead, letter_attachment_path

__all__ = [
    "ApiClient",
    "Application",
    "ApplicationForm",
    "ApplicationStatus",
    "ApplicationValueKind",
    "Authority",
    "AuthorityEvent",
    "AuthorityMembership",
    "CitizenFile",
    "CitizenFileGroupObjectPermission",
    "CitizenFileUserObjectPermission",
    "Consent",
    "ConsentRequest",
    "ConsentRequestStatus",
    "ConsentStatus",
    "DataCategory",
    "DataUse",
    "DataUseBasis",
    "DeliveryStatus",
    "InPeriodPermissionManager",
    "Letter",
    "RefusalReason",
    "RefusedDataUse",
    "LetterRead",
    "Right",
    "Service",
    "TranslatedNameMixin",
    "WebhookDelivery",
    "application_attachment_path",
    "letter_attachment_path",
    "permission_codename_for",
    "private_storage",
]
