from dataclasses import dataclass

from django.db.models import Q, QuerySet

from portal.cpr import format_cpr
from portal.models import User

from .models import Representation


def representations_of(person: User) -> QuerySet[Representation]:
    """Every legal representation that names the person (as child or ward, or as custodian or
    guardian), ended ones too, newest first. Only a verified CPR number is theirs to see."""
    if not person.is_identity_verified:
        return Representation.objects.none()
    return Representation.objects.filter(
        Q(represented_national_id=person.national_id) | Q(representative_national_id=person.national_id)
    ).order_by("ended_at", "-valid_from")


@dataclass
class Party:
    name: str
    national_id: str


def parties_by_cpr(relations) -> dict[str, Party]:
    """Each CPR number in the relations as a verified person's name where there is one."""
    numbers = {r.represented_national_id for r in relations} | {
        r.representative_national_id for r in relations
    }
    named = {
        person.national_id: person.name
        for person in User.objects.filter(national_id__in=numbers, identity_verified_at__isnull=False)
    }
    return {number: Party(named.get(number, ""), format_cpr(number)) for number in numbers}
