"""Every admin list filter offers a caseworker only choices scoped like the rows they may see."""

import pytest
from django.contrib import admin
from django.contrib.admin.filters import AllValuesFieldListFilter, FieldListFilter, RelatedFieldListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.test import RequestFactory
from django.urls import reverse

from attorney import services as attorney_services
from attorney.models import PowerOfAttorney
from authorities.catalogue.selectors import in_caseworker_scope, is_in_caseworker_scope
from authorities.clients.services import create_api_client
from authorities.consent.services import grant_consent
from authorities.events.services import register_webhook
from authorities.models import Consent, ConsentRequest, DataCategory
from authorities.post.services import send_letter

from ..conftest import grant
from ..factories import RightFactory, ServiceFactory
from .test_admin import admin_as, make_caseworker, make_service_desk
from .test_consent_scope import ask

pytestmark = pytest.mark.django_db

KOMMUNE_NAMES = ("Københavns Kommune", "City of Copenhagen", "kobenhavns-kommune")


@pytest.fixture
def two_authorities(karen, peter, ole, skat, kommune, read_mail, tax_statement, kommune_mail):
    """Each authority with services, rights, data categories, consents, events, deliveries, letters
    and mandates, and one mandate with rights at both."""
    RightFactory(
        service=ServiceFactory(authority=kommune, slug="boligstoette"), code="kobenhavns-kommune.housing"
    )
    categories = {
        authority.slug: DataCategory.objects.create(
            authority=authority, code=f"{authority.slug}.data", name_da="Data", name_en="Data"
        )
        for authority in (skat, kommune)
    }
    DataCategory.objects.create(authority=kommune, code="kobenhavns-kommune.unused", name_da="U", name_en="U")
    for authority in (skat, kommune):
        client, _ = create_api_client(authority=authority, name=authority.slug)
        register_webhook(client=client, url="https://hooks.example/x")
        grant_consent(
            consent_request=ask(authority, categories[authority.slug]), acting_user=karen, principal=karen
        )
        ask(authority, categories[authority.slug], citizen_national_id=ole.national_id)
        send_letter(authority=authority, citizen=karen, subject="Brev", body="Tekst")
    attorney_services.accept(
        power_of_attorney=grant(karen, peter, [read_mail, tax_statement]), acting_user=peter
    )
    attorney_services.accept(power_of_attorney=grant(karen, ole, [kommune_mail]), acting_user=ole)
    attorney_services.accept(
        power_of_attorney=grant(ole, peter, [read_mail, kommune_mail]), acting_user=peter
    )
    return categories


def admins_for(user):
    """(model, model admin, request) for every admin the user may open."""
    request = RequestFactory().get("/admin/")
    request.user = user
    return [
        (model, model_admin, request)
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_view_permission(request)
    ]


def filter_specs(user):
    """(model, spec) for every list filter of every admin the user may open, built as the changelist
    builds them (the changelist hides a filter with a single choice, so it is not read from there)."""
    found = []
    for model, model_admin, request in admins_for(user):
        for entry in model_admin.get_list_filter(request):
            path, filter_class = entry if isinstance(entry, tuple) else (entry, None)
            field = get_fields_from_path(model, path)[-1]
            if filter_class is None:
                spec = FieldListFilter.create(field, request, {}, model, model_admin, field_path=path)
            else:
                spec = filter_class(field, request, {}, model, model_admin, field_path=path)
            found.append((model, spec))
    return found


def changelist_pages(client, user):
    for model, _model_admin, _request in admins_for(user):
        response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
        assert response.status_code == 200, model
        yield model, response


def spec_for(user, model, field_path):
    return next(spec for m, spec in filter_specs(user) if m is model and spec.field_path == field_path)


def choices_of(spec) -> list:
    return [choice[0] if isinstance(choice, tuple) else choice for choice in spec.lookup_choices]


@pytest.mark.parametrize("authority_name", ["skat", "kommune"])
def test_every_related_filter_offers_only_records_in_the_caseworkers_scope(
    client, two_authorities, request, authority_name
):
    caseworker = make_caseworker(request.getfixturevalue(authority_name))
    related = [
        (model, spec) for model, spec in filter_specs(caseworker) if isinstance(spec, RelatedFieldListFilter)
    ]
    # Services, rights, letters, files, applications, mandates, data categories, consents,
    # consent requests, events, deliveries and the audit trail have related filters.
    assert len({model for model, _spec in related}) >= 10
    for model, spec in related:
        related_model = spec.field.related_model
        for pk in choices_of(spec):
            record = related_model._default_manager.get(pk=pk)
            assert is_in_caseworker_scope(user=caseworker, record=record), (model, spec.field_path, record)


def test_every_value_filter_offers_only_values_of_visible_rows(client, two_authorities, skat):
    caseworker = make_caseworker(skat)
    checked = 0
    for model, spec in filter_specs(caseworker):
        if isinstance(spec, AllValuesFieldListFilter):
            visible = in_caseworker_scope(user=caseworker, records=model._default_manager.all())
            assert set(choices_of(spec)) <= set(visible.values_list(spec.field_path, flat=True)), model
            checked += 1
    assert checked >= 1  # event types (audit actions are a fixed catalogue of choices)


def test_no_filter_sidebar_names_another_authority(client, two_authorities, skat):
    caseworker = make_caseworker(skat)
    admin_as(client, caseworker)
    sidebars = 0
    for model, response in changelist_pages(client, caseworker):
        page = response.content.decode()
        if 'id="changelist-filter"' not in page:
            continue
        sidebars += 1
        sidebar = page.split('id="changelist-filter"', 1)[1].split("</nav>", 1)[0]
        for name in KOMMUNE_NAMES:
            assert name not in sidebar, (model, name)
    assert sidebars >= 3


@pytest.mark.parametrize("model", [Consent, ConsentRequest])
def test_consent_category_filters_offer_only_the_categories_of_the_caseworkers_consents(
    two_authorities, skat, model
):
    spec = spec_for(make_caseworker(skat), model, "category")
    assert choices_of(spec) == [two_authorities["skat"].pk]


def test_a_category_held_elsewhere_is_offered_where_the_caseworkers_own_consents_use_it(
    two_authorities, karen, skat, kommune
):
    ask(kommune, two_authorities["skat"])
    spec = spec_for(make_caseworker(kommune), ConsentRequest, "category")
    # As the rows show it; never a category none of the rows are about.
    assert set(choices_of(spec)) == {two_authorities["skat"].pk, two_authorities["kobenhavns-kommune"].pk}


def test_the_mandates_authority_filter_offers_a_caseworker_only_their_own(two_authorities, skat):
    spec = spec_for(make_caseworker(skat), PowerOfAttorney, "rights__service__authority")
    assert choices_of(spec) == [skat.pk]


def test_the_service_desk_is_offered_every_authority_that_occurs(two_authorities, skat, kommune):
    service_desk = make_service_desk()
    mandates = spec_for(service_desk, PowerOfAttorney, "rights__service__authority")
    assert set(choices_of(mandates)) == {skat.pk, kommune.pk}
    assert set(choices_of(spec_for(service_desk, DataCategory, "authority"))) == {skat.pk, kommune.pk}


def test_a_value_filter_through_a_relation_offers_only_values_of_visible_rows(two_authorities, skat):
    from authorities.catalogue.admin_scoping import ScopedAllValuesFieldListFilter, scoped_list_filter
    from authorities.models import WebhookDelivery

    assert scoped_list_filter(WebhookDelivery, "client__authority__slug") == (
        "client__authority__slug",
        ScopedAllValuesFieldListFilter,
    )
    (_model, model_admin, request), *_ = [
        a for a in admins_for(make_caseworker(skat)) if a[0] is WebhookDelivery
    ]
    field = get_fields_from_path(WebhookDelivery, "client__authority__slug")[-1]
    spec = ScopedAllValuesFieldListFilter(
        field, request, {}, WebhookDelivery, model_admin, field_path="client__authority__slug"
    )
    assert list(spec.lookup_choices) == ["skat"]
