import django_filters
from django.utils.translation import gettext_lazy as _

from authorities.catalogue.models import Authority

from .models import DataUse


class DataUseFilter(django_filters.FilterSet):
    authority = django_filters.ModelChoiceFilter(
        queryset=Authority.objects.none(), label=_("Authority"), empty_label=_("All authorities")
    )

    class Meta:
        model = DataUse
        fields = ["authority"]

    def __init__(self, *args, authorities, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the authorities whose uses the person may see are offered, so the list names no others.
        self.filters["authority"].queryset = authorities.order_by("name_da")
