"""Authorities report each use of a citizen's data: ``POST /api/v1/data-uses`` (and ``/batch``)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from authorities.consent.models import DataCategory
from authorities.datause import services
from authorities.datause.models import RefusalReason
from portal.errors import Invalid

from .exceptions import PROBLEM_JSON, TITLES
from .serializers import CodeField, CprField, RequestSerializer, TextField, ValidationProblemSerializer
from .views import ERRORS

REFUSALS = {
    RefusalReason.NO_CONSENT: gettext_lazy(
        "There is no consent from this citizen to your authority for this data."
    ),
    RefusalReason.CONSENT_NOT_YET_VALID: gettext_lazy("The use is from before the consent began."),
    RefusalReason.CONSENT_WITHDRAWN: gettext_lazy("The use is from after the citizen withdrew the consent."),
    RefusalReason.CONSENT_EXPIRED: gettext_lazy("The use is from after the consent ended."),
}


# Named in the OpenAPI description as DataUseRefusalReasonEnum (SPECTACULAR_SETTINGS).
DATA_USE_REFUSAL_REASONS = [*RefusalReason.values, "id_reused"]


class CategoryField(CodeField):
    """A data category by its code, looked up once per request: a batch of a hundred uses mostly
    names one or two categories."""

    def __init__(self, **kwargs):
        super().__init__(
            queryset=DataCategory.objects.select_related("authority"),
            does_not_exist=gettext_lazy("There is no data category with the code “{value}”."),
            help_text="Data category code, e.g. skat.income",
            **kwargs,
        )
        self._found = {}

    def to_internal_value(self, data):
        if isinstance(data, str) and data in self._found:
            return self._found[data]
        category = super().to_internal_value(data)
        self._found[data] = category
        return category


class DataUseSerializer(RequestSerializer):
    id = TextField(
        max_length=100, help_text="Your own id for this use: sending it again does not record the use twice"
    )
    citizen = CprField()
    category = CategoryField()
    purpose = TextField(max_length=2000, help_text="What the data was used for, in plain words")
    at = serializers.DateTimeField(help_text="When the data was used (ISO 8601, with time zone)")
    case_reference = TextField(
        max_length=100, required=False, default="", allow_blank=True, help_text="Your own case number"
    )

    def validate_id(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("Give your own id for this use."))
        return value

    def validate_purpose(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("Say what the data was used for."))
        return value.strip()

    def validate_at(self, value):
        if value > timezone.now() + services.CLOCK_SKEW:
            raise serializers.ValidationError(_("A use cannot be reported before it has happened."))
        return value


class DataUseBatchSerializer(RequestSerializer):
    uses = DataUseSerializer(many=True, allow_empty=False, max_length=services.MAX_BATCH)

    def validate_uses(self, uses):
        seen, errors = set(), []
        for use in uses:
            errors.append(
                {"id": [_("This id appears more than once in the batch.")]} if use["id"] in seen else {}
            )
            seen.add(use["id"])
        if any(errors):
            raise serializers.ValidationError(errors)
        return uses


class DataUseResultSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Your own id for the use")
    status = serializers.ChoiceField(
        choices=["accepted", "already_reported", "refused", "conflict"],
        help_text="accepted: recorded now; already_reported: recorded before with the same content; "
        "refused: nothing allowed the use at that moment (see reason); conflict: the id was used "
        "before for a different use",
    )
    reason = serializers.ChoiceField(
        choices=DATA_USE_REFUSAL_REASONS, allow_null=True, help_text="Why, when not accepted"
    )
    data_use = serializers.UUIDField(allow_null=True, help_text="The portal's id of the recorded use")
    basis = serializers.ChoiceField(choices=["consent", "legal_basis"], allow_null=True)
    consent = serializers.UUIDField(allow_null=True, help_text="The consent the use was made under")
    legal_basis = serializers.CharField(allow_null=True, help_text="The law the use was made under")


class DataUseBatchResultSerializer(serializers.Serializer):
    results = DataUseResultSerializer(many=True, help_text="One result per use, in the order sent")


class DataUseProblemSerializer(ValidationProblemSerializer):
    reason = serializers.ChoiceField(
        choices=DATA_USE_REFUSAL_REASONS,
        required=False,
        help_text="Why the use was refused (no_consent, consent_not_yet_valid, consent_withdrawn, "
        "consent_expired) or the id taken (id_reused); absent for bad input",
    )


def _report(data: dict) -> services.Report:
    return services.Report(
        external_id=data["id"],
        citizen_national_id=data["citizen"],
        category=data["category"],
        purpose=data["purpose"],
        used_at=data["at"],
        case_reference=data.get("case_reference", ""),
    )


def _result(outcome: services.Outcome) -> dict:
    use = outcome.data_use if outcome.status != services.Status.CONFLICT else None
    return {
        "id": outcome.external_id,
        "status": outcome.status,
        "reason": outcome.reason,
        "data_use": use.pk if use else None,
        "basis": use.basis if use else None,
        "consent": use.consent_id if use else None,
        "legal_basis": (use.legal_basis or None) if use else None,
    }


def _problem(status_code: int, detail: str, reason: str) -> Response:
    body = {"type": "about:blank", "title": str(TITLES[status_code]), "status": status_code, "detail": detail}
    return Response({**body, "reason": reason}, status=status_code, content_type=PROBLEM_JSON)


def _outcomes(client, reports: list[services.Report]) -> list[services.Outcome]:
    try:
        return services.report_data_uses(client=client, reports=reports)
    except Invalid as error:
        raise ValidationError({"non_field_errors": error.messages}) from None


DATA_USE_ERRORS = {
    **{key: value for key, value in ERRORS.items() if key[0] not in (400, 403)},
    (400, PROBLEM_JSON): OpenApiResponse(
        DataUseProblemSerializer,
        description="Refused: nothing allowed the use at that moment (reason says why; the refusal is "
        "counted and your webhook hears of it), or bad input with each field named in errors",
    ),
    (409, PROBLEM_JSON): OpenApiResponse(
        DataUseProblemSerializer, description="This id was used before for a different use (reason id_reused)"
    ),
}


# A batch answers refusals and reused ids per use, inside its 200.
BATCH_ERRORS = {key: value for key, value in ERRORS.items() if key[0] != 403}


class DataUseView(APIView):
    @extend_schema(
        request=DataUseSerializer,
        responses={
            201: OpenApiResponse(DataUseResultSerializer, description="Recorded"),
            200: OpenApiResponse(DataUseResultSerializer, description="Recorded before, with this id"),
            **DATA_USE_ERRORS,
        },
        summary="Report that your authority used a citizen's data",
        description="Accepted only while a consent for the category is in force for your authority at "
        "that moment, or when the catalogue names a legal basis for the category.",
    )
    def post(self, request):
        serializer = DataUseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        (outcome,) = _outcomes(request.user, [_report(serializer.validated_data)])
        if outcome.status == services.Status.REFUSED:
            return _problem(400, str(REFUSALS[outcome.reason]), outcome.reason)
        if outcome.status == services.Status.CONFLICT:
            return _problem(409, _("This id was used before for a different use."), "id_reused")
        code = status.HTTP_201_CREATED if outcome.status == services.Status.ACCEPTED else status.HTTP_200_OK
        return Response(_result(outcome), status=code)


class DataUseBatchView(APIView):
    @extend_schema(
        request=DataUseBatchSerializer,
        responses={200: DataUseBatchResultSerializer, **BATCH_ERRORS},
        summary="Report up to 100 uses in one call; each is answered on its own, in order",
        description="Bad input anywhere refuses the whole batch (400, errors by index) and records "
        "nothing. Otherwise the answer is 200 and each use has its own status: accepted, "
        "already_reported, refused (with a reason) or conflict.",
    )
    def post(self, request):
        serializer = DataUseBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcomes = _outcomes(request.user, [_report(use) for use in serializer.validated_data["uses"]])
        return Response({"results": [_result(outcome) for outcome in outcomes]})
