import re
from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from attorney.models import JointMode
from authorities.catalogue.models import Right
from authorities.consent.models import DataCategory
from organisations.cvr import normalize_cvr
from portal import processcache
from portal.cpr import normalize_cpr

MAX_BATCH = 100


class RequestSerializer(serializers.Serializer):
    """A request body. A field the API does not know is refused and named, not silently ignored: a
    client that wrote ``as_of`` for ``at`` must hear so, not get an answer about another moment."""

    def to_internal_value(self, data):
        known = [name for name, field in self.fields.items() if not field.read_only]
        unknown = sorted(set(data) - set(known)) if isinstance(data, Mapping) else []
        errors = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail
            errors = (
                dict(detail) if isinstance(detail, Mapping) else {api_settings.NON_FIELD_ERRORS_KEY: detail}
            )
        for name in unknown:
            errors[name] = [
                serializers.ErrorDetail(
                    _("Unknown field. The fields are: %(fields)s.") % {"fields": ", ".join(known)},
                    code="unknown_field",
                )
            ]
        if errors:
            raise serializers.ValidationError(errors)
        return value


class RequestSerializerSchema(OpenApiSerializerExtension):
    """Tell the OpenAPI schema that request bodies take no fields besides their own."""

    target_class = RequestSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


class TextField(serializers.CharField):
    """Text that must arrive as a JSON string, not a number or a list turned into one."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(_("Give this as text."))
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "pattern": r"^[0-9]{6}-?[0-9]{4}$", "example": "010245-1234"})
class CprField(TextField):
    """A Danish CPR number, 10 digits with or without a hyphen; answered as 10 digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 11)
        kwargs.setdefault("help_text", "CPR number, DDMMYYSSSS or DDMMYY-SSSS")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        # A number would silently lose the leading zero of a CPR number, so only text is accepted.
        value = super().to_internal_value(data)
        try:
            return normalize_cpr(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


@extend_schema_field({"type": "string", "pattern": r"^[0-9]{8}$", "example": "12345674"})
class CvrField(TextField):
    """A Danish CVR number, 8 digits (spaces and a ``DK`` prefix are tolerated); answered as 8 digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return normalize_cvr(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


# The shape of right and data-category codes (the models' validators), checked before any query:
# a value that cannot be a code is answered without asking the database, which would refuse some
# of them (a NUL character) with an error instead of "not found".
CODE = re.compile(r"[a-z0-9-]+\.[a-z0-9_]+")
CODE_MAX_LENGTH = 80


class CodeField(serializers.SlugRelatedField):
    """A catalogue entry (right or data category) by its stable code."""

    def __init__(self, *, queryset, does_not_exist: str, **kwargs):
        super().__init__(
            slug_field="code",
            queryset=queryset,
            error_messages={
                "does_not_exist": does_not_exist,
                "invalid": _("Give the code as text."),
            },
            **kwargs,
        )

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if len(data) > CODE_MAX_LENGTH or not CODE.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


class RightField(CodeField):
    """A right by its code. The catalogue changes rarely, so a right that exists is held in the
    process (``portal.processcache``, whose version stamp the request has read): no lookup on a
    decision."""

    def __init__(self, **kwargs):
        super().__init__(
            queryset=Right.objects.select_related("service__authority"),
            does_not_exist=_("There is no right with the code “{value}”."),
            help_text="Right code, e.g. skat.read_mail",
            **kwargs,
        )

    def to_internal_value(self, data):
        rights = processcache.table("rights")
        right = rights.get(data) if isinstance(data, str) else None
        if right is None:
            right = super().to_internal_value(data)  # raises for anything but an existing right's code
            rights[data] = right
        return right


class DecisionQuestionSerializer(RequestSerializer):
    actor = CprField()
    principal = CprField()
    right = RightField()
    at = serializers.DateTimeField(required=False, help_text="Ask about a past moment (ISO 8601)")
    on_behalf_of_organisation = CvrField(
        required=False,
        help_text="The CVR number of an organisation the actor acts for as its member: then only "
        "powers of attorney the principal gave that organisation count, and only if the actor has "
        "been given access to them. Without it, only the actor's own powers of attorney and legal "
        "representation count.",
    )


# Named in the OpenAPI description as DecisionReasonEnum (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
DECISION_REASONS = [
    "self",
    "power_of_attorney",
    "no_power_of_attorney",
    "right_not_granted",
    "not_yet_valid",
    "expired",
    "revoked",
    "parental_custody",
    "guardianship",
    "custody_does_not_cover",
    "outside_guardianship_scope",
    "representation_not_yet_valid",
    "child_came_of_age",
    "custody_ended",
    "guardianship_ended",
    "no_organisation_access",
]


class OrganisationSerializer(serializers.Serializer):
    cvr = serializers.CharField(help_text="CVR number, 8 digits")
    name = serializers.CharField(allow_null=True)


class DecisionAnswerSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["permit", "deny"])
    reason = serializers.ChoiceField(choices=DECISION_REASONS)
    basis = serializers.ChoiceField(
        choices=["self", "power_of_attorney", "parental_custody", "guardianship"],
        allow_null=True,
        help_text="What a permit rests on: the person themselves, a power of attorney they gave, "
        "parental custody from the CPR register (until the child turns 18) or a guardianship decided "
        "by the family court authority. Null for a deny.",
    )
    power_of_attorney = serializers.UUIDField(
        allow_null=True, help_text="The power of attorney a permit rests on; null for other bases"
    )
    valid_until = serializers.DateTimeField(
        allow_null=True,
        help_text="When the basis ends: the power of attorney's end, the child's 18th birthday or the "
        "end of custody or guardianship; null if it has no end",
    )
    on_behalf_of_organisation = OrganisationSerializer(
        required=False,
        help_text="Only when the question named an organisation: its CVR number, and its name when "
        "the permit rests on a power of attorney given to it (null otherwise)",
    )


class DecisionBatchSerializer(RequestSerializer):
    questions = DecisionQuestionSerializer(many=True, allow_empty=False, max_length=MAX_BATCH)


class DecisionBatchAnswerSerializer(serializers.Serializer):
    answers = DecisionAnswerSerializer(many=True)


class PowerOfAttorneySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    principal = serializers.CharField(help_text="Grantor's CPR number")
    principal_name = serializers.CharField()
    attorney = serializers.CharField(
        allow_null=True, help_text="Attorney's CPR number; null when the attorney is an organisation"
    )
    attorney_name = serializers.CharField(help_text="The attorney's name, or the organisation's")
    organisation = OrganisationSerializer(
        allow_null=True,
        help_text="The organisation that is the attorney (its members act with the access it gives "
        "them); null when the attorney is a person",
    )
    joint = serializers.ChoiceField(
        choices=JointMode.choices,
        allow_null=True,
        help_text="How the attorney acts with the other attorneys appointed with them: `severally` "
        "(each alone), `jointly` (an application one makes reaches you only once another approves it); "
        "null for an attorney appointed alone",
    )
    rights = serializers.ListField(
        child=serializers.CharField(), help_text="Only the calling authority's rights"
    )
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()


class PowerOfAttorneyQuerySerializer(serializers.Serializer):
    principal = CprField(required=False)
    attorney = CprField(required=False)
    organisation = CvrField(required=False)

    def validate(self, attrs):
        if sum(bool(attrs.get(name)) for name in ("principal", "attorney", "organisation")) != 1:
            raise serializers.ValidationError(
                _("Give exactly one of 'principal', 'attorney' and 'organisation'.")
            )
        return attrs


class LetterSerializer(RequestSerializer):
    recipient = CprField()
    subject = TextField(max_length=300)
    body = TextField(max_length=100_000)


class LetterCreatedSerializer(serializers.Serializer):
    id = serializers.UUIDField()


class ProblemSerializer(serializers.Serializer):
    """Problem details (RFC 9457), sent as application/problem+json."""

    type = serializers.CharField(help_text="Always about:blank: the status says what kind of problem it is")
    title = serializers.CharField(help_text="Short, translated name of the status")
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong, in the request's language")


class ValidationProblemSerializer(ProblemSerializer):
    errors = serializers.DictField(
        required=False,
        help_text="Each field in error with its problems (for a list, one entry per item); "
        "non_field_errors for the request as a whole; absent when the body could not be read",
    )


class ConsentRequestSerializer(RequestSerializer):
    citizen = CprField()
    category = CodeField(
        queryset=DataCategory.objects.select_related("authority"),
        does_not_exist=_("There is no data category with the code “{value}”."),
        help_text="Data category code, e.g. skat.income",
    )
    purpose_da = TextField(max_length=2000, help_text="The purpose in plain Danish")
    purpose_en = TextField(max_length=2000, help_text="The purpose in plain English")
    days = serializers.IntegerField(
        min_value=1, max_value=36500, help_text="How long the consent lasts once given"
    )

    def validate(self, attrs):
        if attrs["days"] > attrs["category"].max_days:
            raise serializers.ValidationError(
                {
                    "days": [
                        _("At most %(max)d days for this data category.")
                        % {"max": attrs["category"].max_days}
                    ]
                }
            )
        return attrs


class ConsentRequestCreatedSerializer(serializers.Serializer):
    id = serializers.UUIDField()


class ConsentCheckQuerySerializer(serializers.Serializer):
    citizen = CprField()
    category = TextField(max_length=80)


class ConsentCheckSerializer(serializers.Serializer):
    consent = serializers.ChoiceField(choices=["granted", "none"])
    valid_until = serializers.DateTimeField(allow_null=True)


class WebhookSerializer(RequestSerializer):
    url = TextField(max_length=500, help_text="https address that receives signed events")


class WebhookRegisteredSerializer(serializers.Serializer):
    url = serializers.CharField()
    secret = serializers.CharField(help_text="Signing secret, shown only now")


class EventSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Event id, for dropping duplicates")
    type = serializers.CharField()
    created_at = serializers.DateTimeField()
    data = serializers.DictField()


class EventFeedSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    next = serializers.CharField(help_text="Pass as ?after= to get the events after these")


class EventFeedQuerySerializer(serializers.Serializer):
    after = serializers.RegexField(
        r"^[0-9]{1,18}$", required=False, help_text="Cursor from the previous page"
    )
