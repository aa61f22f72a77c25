import django_filters
from django.utils.translation import gettext_lazy as _

from portal.models import AuditEvent

from .models import Authority, Letter


class InboxFilter(django_filters.FilterSet):
    authority = django_filters.ModelChoiceFilter(
        field_name="citizen_file__authority",
        queryset=Authority.objects.none(),
        label=_("Authority"),
        empty_label=_("All authorities"),
    )

    class Meta:
        model = Letter
        fields = ["authority"]

    def __init__(self, *args, authorities=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["authority"].queryset = (
            authorities if authorities is not None else Authority.objects.none()
        )


class AuditFilter(django_filters.FilterSet):
    authority = django_filters.ModelChoiceFilter(
        queryset=Authority.objects.all(), label=_("Authority"), empty_label=_("All authorities")
    )
    after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("From date"))
    before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("To date"))

    class Meta:
        model = AuditEvent
        fields = ["authority", "after", "before"]
