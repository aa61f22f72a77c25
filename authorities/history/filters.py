import django_filters
from django.utils.translation import gettext_lazy as _

from authorities.catalogue.models import (
    Authority,
)
from portal.models import AuditEvent


class AuditFilter(django_filters.FilterSet):
    authority = django_filters.ModelChoiceFilter(
        queryset=Authority.objects.all(), label=_("Authority"), empty_label=_("All authorities")
    )
    after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("From date"))
    before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("To date"))

    class Meta:
        model = AuditEvent
        fields = ["authority", "after", "before"]
