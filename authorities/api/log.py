"""The audit log, published: its latest signed checkpoint, its key and its proofs, open to anyone.

Only hashes and the signed tree head leave here, never an entry, so any authority or outsider can
witness the log without credentials.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from portal import tlog

from .exceptions import PROBLEM_JSON
from .serializers import ProblemSerializer, ValidationProblemSerializer

MAX_SIZE = 2**62


class LogRateThrottle(AnonRateThrottle):
    """A request budget per address, in the shared cache."""

    scope = "audit_log"

    def get_rate(self) -> str:
        return settings.AUDIT_LOG_API_RATE


class PlainTextRenderer(BaseRenderer):
    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, str):
            return data.encode()
        return "\n".join(f"{key}: {value}" for key, value in (data or {}).items()).encode()


class PublicLogView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LogRateThrottle]


def _size_field() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_SIZE)


class InclusionQuerySerializer(serializers.Serializer):
    index = _size_field()
    size = _size_field()

    def validate(self, attrs: dict) -> dict:
        if attrs["index"] >= attrs["size"]:
            raise ValidationError({"index": [_("The entry must be below the tree size.")]})
        return _within_log(attrs, "size")


class ConsistencyQuerySerializer(serializers.Serializer):
    def get_fields(self) -> dict:
        return {"from": _size_field(), "to": _size_field()}  # "from" cannot be a class attribute

    def validate(self, attrs: dict) -> dict:
        if attrs["from"] > attrs["to"]:
            raise ValidationError({"from": [_("The older tree size cannot be larger than the newer.")]})
        return _within_log(attrs, "to")


def _within_log(attrs: dict, name: str) -> dict:
    size = tlog.tree_size()
    if attrs[name] > size:
        raise ValidationError(
            {name: [_("The log has %(size)s entries in its latest checkpoint.") % {"size": size}]}
        )
    return attrs


class InclusionProofSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    size = serializers.IntegerField()
    proof = serializers.ListField(child=serializers.CharField(), help_text="Base64 hashes, leaf to root")


class ConsistencyProofSerializer(serializers.Serializer):
    def get_fields(self) -> dict:
        return {
            "from": serializers.IntegerField(),
            "to": serializers.IntegerField(),
            "proof": serializers.ListField(child=serializers.CharField(), help_text="Base64 hashes"),
        }


ERRORS = {
    (400, PROBLEM_JSON): OpenApiResponse(
        ValidationProblemSerializer, description="Bad input: each field named in errors"
    ),
    (429, PROBLEM_JSON): OpenApiResponse(ProblemSerializer, description="Too many requests; see Retry-After"),
}


class CheckpointView(PublicLogView):
    renderer_classes = [PlainTextRenderer]

    @extend_schema(
        auth=[],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="A C2SP signed checkpoint"),
            (404, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="No checkpoint yet"),
            (429, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Too many requests"),
        },
        summary="The audit log's latest signed checkpoint (C2SP tlog-checkpoint)",
    )
    def get(self, request):
        latest = tlog.latest_checkpoint()
        if latest is None:
            raise NotFound(_("The log has no checkpoint yet."))
        return Response(latest.note)


class VerifierKeyView(PublicLogView):
    renderer_classes = [PlainTextRenderer]

    @extend_schema(
        auth=[],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="name+key id+Ed25519 key"),
            (429, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Too many requests"),
        },
        summary="The public key that signs the audit log's checkpoints (C2SP signed-note verifier key)",
    )
    def get(self, request):
        return Response(str(tlog.verifier()) + "\n")


class InclusionProofView(PublicLogView):
    renderer_classes = [JSONRenderer]

    @extend_schema(
        auth=[],
        parameters=[InclusionQuerySerializer],
        responses={200: InclusionProofSerializer, **ERRORS},
        summary="Proof that entry `index` is in the tree of `size` entries (RFC 6962)",
    )
    def get(self, request):
        query = InclusionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        index, size = query.validated_data["index"], query.validated_data["size"]
        return Response({"index": index, "size": size, "proof": tlog.b64(tlog.inclusion_proof(index, size))})


class ConsistencyProofView(PublicLogView):
    renderer_classes = [JSONRenderer]

    @extend_schema(
        auth=[],
        parameters=[
            OpenApiParameter("from", int, required=True, description="The older tree size"),
            OpenApiParameter("to", int, required=True, description="The newer tree size"),
        ],
        responses={200: ConsistencyProofSerializer, **ERRORS},
        summary="Proof that the tree of `to` entries extends the tree of `from` entries (RFC 6962)",
    )
    def get(self, request):
        query = ConsistencyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        old, new = query.validated_data["from"], query.validated_data["to"]
        return Response({"from": old, "to": new, "proof": tlog.b64(tlog.consistency_proof(old, new))})
