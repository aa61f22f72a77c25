import datetime
import itertools

import factory
from django.utils import timezone

from attorney.models import PowerOfAttorney
from authorities.models import Authority, Right, Service
from portal.models import User

PASSWORD = "Correct-horse-battery-9"

_serial = itertools.count(1)


def next_cpr() -> str:
    """A fresh valid CPR number: a real 1950s birth date and a unique sequence part."""
    n = next(_serial)
    day = 1 + n % 28
    month = 1 + (n // 28) % 12
    return f"{day:02d}{month:02d}5{n % 10}{(n // 10) % 10000:04d}"[:10]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.dk")
    name = factory.Faker("name", locale="da_DK")
    national_id = factory.LazyFunction(next_cpr)
    # People in the tests have proved their CPR number with MitID unless a test says otherwise.
    identity_verified_at = factory.LazyAttribute(lambda o: timezone.now() if o.national_id else None)
    identity_verification = factory.LazyAttribute(lambda o: "mitid" if o.national_id else "")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    class Params:
        unverified = factory.Trait(identity_verified_at=None, identity_verification="")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AuthorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Authority
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"myndighed-{n}")
    cvr = factory.Sequence(lambda n: f"{10000000 + n}")
    name_da = factory.Sequence(lambda n: f"Myndighed {n}")
    name_en = factory.Sequence(lambda n: f"Authority {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    authority = factory.SubFactory(AuthorityFactory)
    slug = factory.Sequence(lambda n: f"service-{n}")
    name_da = factory.Sequence(lambda n: f"Selvbetjening {n}")
    name_en = factory.Sequence(lambda n: f"Service {n}")


class RightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Right

    service = factory.SubFactory(ServiceFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.service.authority.slug}.right_{n}")
    name_da = factory.Sequence(lambda n: f"Ret {n}")
    name_en = factory.Sequence(lambda n: f"Right {n}")


def a_period(days: int = 365) -> tuple[datetime.datetime, datetime.datetime]:
    now = timezone.now()
    return now, now + datetime.timedelta(days=days)


class PowerOfAttorneyFactory(factory.django.DjangoModelFactory):
    """A pending mandate row; use attorney.services to move it along."""

    class Meta:
        model = PowerOfAttorney
        skip_postgeneration_save = True

    grantor = factory.SubFactory(UserFactory)
    attorney = factory.SubFactory(UserFactory)
    created_by = factory.SelfAttribute("grantor")
    valid_from = factory.LazyFunction(timezone.now)
    valid_until = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=365))

    @factory.post_generation
    def rights(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.rights.set(extracted)
