import django_filters
from django.utils.translation import gettext_lazy as _

from authorities.catalogue.models import (
    Authority,
)
from authorities.post.models import Letter


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
