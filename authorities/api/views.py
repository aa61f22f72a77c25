"""The authority API: thin views over attorney.policy and the services of each floor."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from attorney import selectors as attorney_selectors
from attorney.policy import Decision, Question, authorize_by_cpr, authorize_many_by_cpr
from authorities.catalogue.models import Right
from authorities.consent import selectors as consent_selectors
from authorities.consent import services as consent_services
from authorities.events import services as events_services
from authorities.events.models import AuthorityEvent
from authorities.post import services as post_services
from organisations.models import Organisation
from portal.audit import append_event, record_event
from portal.models import User

from . import fastpath
from .exceptions import PROBLEM_JSON
from .serializers import (
    ConsentCheckQuerySerializer,
    ConsentCheckSerializer,
    ConsentRequestCreatedSerializer,
    ConsentRequestSerializer,
    DecisionAnswerSerializer,
    DecisionBatchAnswerSerializer,
    DecisionBatchSerializer,
    DecisionQuestionSerializer,
    EventFeedQuerySerializer,
    EventFeedSerializer,
    LetterCreatedSerializer,
    LetterSerializer,
    PowerOfAttorneyQuerySerializer,
    PowerOfAttorneySerializer,
    ProblemSerializer,
    ValidationProblemSerializer,
    WebhookRegisteredSerializer,
    WebhookSerializer,
)

ERRORS = {
    (400, PROBLEM_JSON): OpenApiResponse(
        ValidationProblemSerializer,
        description="Bad input: a body that is not JSON, too large or too deep, text that is not "
        "valid Unicode, or fields in error (unknown fields too), each named in errors",
    ),
    (401, PROBLEM_JSON): OpenApiResponse(
        ProblemSerializer, description="No token, or a bad or revoked token"
    ),
    (403, PROBLEM_JSON): OpenApiResponse(
        ProblemSerializer, description="A right outside your authority's catalogue"
    ),
    (415, PROBLEM_JSON): OpenApiResponse(ProblemSerializer, description="The body is not JSON"),
    (429, PROBLEM_JSON): OpenApiResponse(ProblemSerializer, description="Too many requests; see Retry-After"),
}


def _require_own_rights(client, rights: list[Right]) -> None:
    foreign = sorted({right.code for right in rights if right.service.authority_id != client.authority_id})
    if foreign:
        raise PermissionDenied(
            _("You can only ask about your own authority's rights: %(codes)s.")
            % {"codes": ", ".join(foreign)}
        )


def _answer(decision: Decision) -> dict:
    # Only the basis's own id and end are told, never its other rights or other authorities.
    mandate = decision.power_of_attorney if decision.reason != "self" else None
    return {
        "decision": "permit" if decision.permitted else "deny",
        "reason": decision.reason,
        "basis": decision.basis,
        "power_of_attorney": mandate.pk if mandate is not None else None,
        "valid_until": decision.valid_until if decision.reason != "self" else None,
    }


def _decide(question: dict) -> dict:
    cvr = question.get("on_behalf_of_organisation")
    decision = authorize_by_cpr(
        actor_national_id=question["actor"],
        principal_national_id=question["principal"],
        right=question["right"],
        at=question.get("at"),
        organisation_cvr=cvr,
    )
    answer = _answer(decision)
    if cvr is not None:
        # The name only when the permit rests on the organisation's own power of attorney: a deny
        # does not say whether an organisation with this number uses the portal.
        name = (
            Organisation.objects.filter(pk=decision.organisation_id).values_list("name", flat=True).first()
            if decision.permitted and decision.organisation_id is not None
            else None
        )
        answer["on_behalf_of_organisation"] = {"cvr": cvr, "name": name}
    return answer


def _audit_details(question: dict, answer: dict) -> dict:
    # The question is kept as the right and the moment; the people are not written down as CPR numbers.
    details = {
        "right": question["right"].code,
        "at": question["at"].isoformat() if question.get("at") else None,
        "decision": answer["decision"],
        "reason": answer["reason"],
        "basis": answer["basis"],
        "power_of_attorney": str(answer["power_of_attorney"]) if answer["power_of_attorney"] else None,
    }
    if "on_behalf_of_organisation" in answer:
        # A company's number, not a person's: kept, so the trail says on whose behalf the actor asked.
        details["organisation_cvr"] = answer["on_behalf_of_organisation"]["cvr"]
    return details


class DecisionView(APIView):
    @extend_schema(
        request=DecisionQuestionSerializer,
        responses={200: DecisionAnswerSerializer, **ERRORS},
        summary="May the actor act for the principal with this right?",
    )
    def post(self, request):
        serializer = DecisionQuestionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        question = serializer.validated_data
        _require_own_rights(request.user, [question["right"]])
        answer = _decide(question)
        _audit_decision(request.user, question, answer)
        return Response(answer)


def _audit_decision(client, question: dict, answer: dict) -> None:
    append_event(
        action="api.decision",
        authority=client.authority,
        details={"client": str(client.pk), **_audit_details(question, answer)},
    )


_decision_view_drf = DecisionView.as_view()


@csrf_exempt
def decision_view(request):
    """``DecisionView`` with its common case answered without DRF's dispatch (see ``fastpath``)."""
    read = fastpath.read_question(request)
    if read is None:
        return _decision_view_drf(request)
    client, question = read
    answer = _decide(question)
    _audit_decision(client, question, answer)
    response = HttpResponse(fastpath.render(answer), content_type="application/json")
    response["Allow"] = "POST, OPTIONS"  # as DRF's view says on every answer
    return response


# The OpenAPI schema and DRF's tools see the DRF view behind it.
decision_view.cls, decision_view.initkwargs = _decision_view_drf.cls, _decision_view_drf.initkwargs
decision_view.view_class = _decision_view_drf.view_class


_PLAIN_QUESTION = frozenset(("actor", "principal", "right", "at"))


def _decide_all(questions: list[dict]) -> list[dict]:
    """``_decide`` for each question, in order: the plain ones (people, right and maybe a moment)
    together, in two statements for all of them; any other question on its own."""
    answers: list[dict | None] = [None] * len(questions)
    plain: list[int] = []
    for n, question in enumerate(questions):
        if all(key in _PLAIN_QUESTION or value is None for key, value in question.items()):
            plain.append(n)
        else:
            answers[n] = _decide(question)
    decisions = authorize_many_by_cpr(
        [
            Question(
                questions[n]["actor"],
                questions[n]["principal"],
                questions[n]["right"],
                questions[n].get("at"),
            )
            for n in plain
        ]
    )
    for n, decision in zip(plain, decisions, strict=True):
        answers[n] = _answer(decision)
    return answers


class DecisionBatchView(APIView):
    @extend_schema(
        request=DecisionBatchSerializer,
        responses={200: DecisionBatchAnswerSerializer, **ERRORS},
        summary="Up to 100 decisions in one call, answered in order",
    )
    def post(self, request):
        serializer = DecisionBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        questions = serializer.validated_data["questions"]
        _require_own_rights(request.user, [q["right"] for q in questions])
        answers = _decide_all(questions)
        _audit_batch(request.user, questions, answers)
        return Response({"answers": answers})


def _audit_batch(client, questions: list[dict], answers: list[dict]) -> None:
    append_event(
        action="api.decision_batch",
        authority=client.authority,
        details={
            "client": str(client.pk),
            "answers": [_audit_details(q, a) for q, a in zip(questions, answers, strict=True)],
        },
    )


_decision_batch_view_drf = DecisionBatchView.as_view()


@csrf_exempt
def decision_batch_view(request):
    """``DecisionBatchView`` with its common case answered without DRF's dispatch (see ``fastpath``)."""
    read = fastpath.read_batch(request)
    if read is None:
        return _decision_batch_view_drf(request)
    client, questions = read
    answers = _decide_all(questions)
    _audit_batch(client, questions, answers)
    response = HttpResponse(fastpath.render({"answers": answers}), content_type="application/json")
    response["Allow"] = "POST, OPTIONS"  # as DRF's view says on every answer
    return response


decision_batch_view.cls = _decision_batch_view_drf.cls
decision_batch_view.initkwargs = _decision_batch_view_drf.initkwargs
decision_batch_view.view_class = _decision_batch_view_drf.view_class


class MandatePagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50


def _mandate_as_seen_by_authority(mandate) -> dict:
    """A mandate with only the asking authority's rights (``own_rights``)."""
    organisation = mandate.organisation
    return {
        "id": mandate.pk,
        "principal": mandate.grantor.national_id,
        "principal_name": mandate.grantor.name,
        "attorney": mandate.attorney.national_id if organisation is None else None,
        "attorney_name": mandate.attorney.name if organisation is None else organisation.name,
        "organisation": {"cvr": organisation.cvr, "name": organisation.name} if organisation else None,
        "joint": mandate.joint_appointment.mode if mandate.joint_appointment_id else None,
        "rights": [right.code for right in mandate.own_rights],
        "valid_from": mandate.valid_from,
        "valid_until": mandate.valid_until,
    }


class PowerOfAttorneyListView(APIView):
    pagination_class = MandatePagination

    @extend_schema(
        parameters=[
            OpenApiParameter("principal", str, description="Grantor's CPR number"),
            OpenApiParameter("attorney", str, description="Attorney's CPR number"),
            OpenApiParameter(
                "organisation", str, description="CVR number of an organisation that is the attorney"
            ),
            OpenApiParameter("cursor", str),
        ],
        responses={200: PowerOfAttorneySerializer(many=True), **ERRORS},
        summary="Active powers of attorney that include your rights, showing only your rights",
    )
    def get(self, request):
        query = PowerOfAttorneyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        by = next(
            name for name in ("principal", "attorney", "organisation") if query.validated_data.get(name)
        )
        mandates = attorney_selectors.mandates_in_force_at_authority(
            authority_id=request.user.authority_id,
            principal_national_id=query.validated_data.get("principal") or None,
            attorney_national_id=query.validated_data.get("attorney") or None,
            organisation_cvr=query.validated_data.get("organisation") or None,
        )
        paginator = self.pagination_class()
        data = [
            _mandate_as_seen_by_authority(mandate)
            for mandate in paginator.paginate_queryset(mandates, request, view=self)
        ]
        record_event(
            action="api.powers_of_attorney_listed",
            actor=None,
            authority=request.user.authority,
            details={
                "client": str(request.user.pk),
                "by": by,
                "count": len(data),
            },
        )
        return paginator.get_paginated_response(PowerOfAttorneySerializer(data, many=True).data)


class LetterView(APIView):
    @extend_schema(
        request=LetterSerializer,
        responses={201: LetterCreatedSerializer, **ERRORS},
        summary="Deliver a letter to a citizen",
    )
    def post(self, request):
        serializer = LetterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Only a verified account receives letters: an unverified one has only typed the number.
        recipient = (
            User.objects.with_verified_cpr(serializer.validated_data["recipient"])
            .filter(is_active=True)
            .first()
        )
        if recipient is None:
            raise ValidationError({"recipient": [_("No person with this CPR number uses the portal.")]})
        try:
            letter = post_services.send_letter(
                authority=request.user.authority,
                citizen=recipient,
                subject=serializer.validated_data["subject"],
                body=serializer.validated_data["body"],
            )
        except DjangoValidationError as error:
            raise ValidationError({"body": error.messages}) from None
        record_event(
            action="api.letter_delivered",
            actor=None,
            principal=recipient,
            authority=request.user.authority,
            target=letter,
            details={"client": str(request.user.pk)},
        )
        return Response({"id": letter.pk}, status=status.HTTP_201_CREATED)


class ConsentRequestView(APIView):
    @extend_schema(
        request=ConsentRequestSerializer,
        responses={201: ConsentRequestCreatedSerializer, **ERRORS},
        summary="Ask a citizen for consent to use a category of their data",
        description="Answered the same whether or not the citizen uses the portal; the request waits for them.",
    )
    def post(self, request):
        serializer = ConsentRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            consent_request = consent_services.request_consent(
                authority=request.user.authority,
                citizen_national_id=data["citizen"],
                category=data["category"],
                purpose_da=data["purpose_da"],
                purpose_en=data["purpose_en"],
                days=data["days"],
            )
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        return Response({"id": consent_request.pk}, status=status.HTTP_201_CREATED)


class ConsentCheckView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("citizen", str, required=True, description="The citizen's CPR number"),
            OpenApiParameter("category", str, required=True, description="Data category code"),
        ],
        responses={200: ConsentCheckSerializer, **ERRORS},
        summary="Has the citizen given your authority consent for this data, right now?",
    )
    def get(self, request):
        query = ConsentCheckQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        consent = consent_selectors.consent_in_force(
            authority_id=request.user.authority_id,
            citizen_national_id=query.validated_data["citizen"],
            category_code=query.validated_data["category"],
        )
        answer = {
            "consent": "granted" if consent is not None else "none",
            "valid_until": consent.valid_until if consent is not None else None,
        }
        record_event(
            action="api.consent_check",
            actor=None,
            authority=request.user.authority,
            details={
                "client": str(request.user.pk),
                "category": query.validated_data["category"],
                "consent": answer["consent"],
            },
        )
        return Response(answer)


class WebhookView(APIView):
    @extend_schema(
        request=WebhookSerializer,
        responses={200: WebhookRegisteredSerializer, **ERRORS},
        summary="Register (or replace) your webhook; returns a new signing secret once",
    )
    def put(self, request):
        serializer = WebhookSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            client, secret = events_services.register_webhook(
                client=request.user, url=serializer.validated_data["url"]
            )
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        return Response({"url": client.webhook_url, "secret": secret})

    @extend_schema(responses={204: None, **ERRORS}, summary="Stop sending events to your webhook")
    def delete(self, request):
        events_services.remove_webhook(client=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


FEED_PAGE_SIZE = 100


class EventFeedView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("after", str, description="Cursor: the 'next' value of the previous page")
        ],
        responses={200: EventFeedSerializer, **ERRORS},
        summary="The events for your authority in order, to catch up after an outage",
    )
    def get(self, request):
        if request.query_params.get("after", None) == "":
            raise ValidationError({"after": [_("Give the cursor from the previous page, or leave it out.")]})
        query = EventFeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after = int(query.validated_data.get("after") or 0)
        events = list(
            AuthorityEvent.objects.filter(authority_id=request.user.authority_id, id__gt=after).order_by(
                "id"
            )[:FEED_PAGE_SIZE]
        )
        return Response(
            {
                "events": [events_services.event_body(event) for event in events],
                "next": str(events[-1].pk if events else after),
            }
        )
