"""Whose affairs a page is about while the user acts for someone (see attorney.middleware), and
which task in the portal each right leads to."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.http import HttpRequest

from authorities.catalogue.models import Right


def principal_of(request: HttpRequest):
    """The person whose affairs the page shows: the one being acted for, or the user.

    A page that asks is about that person, so asking also marks the request (see ``about_principal``).
    """
    request.about_principal = True
    return request.acting_for or request.user


def about_principal(view):
    """Marks a page about the person acted for that does not ask ``principal_of`` (the act-for page).

    Every page that is neither marked nor asks is the user's own: while they act for someone, the
    layout says so there and offers to stop acting (see ``portal.context_processors``).
    """
    view.about_principal = True
    return view


@dataclass(frozen=True)
class Task:
    """Where in the portal a right is used: the page and what to call the link."""

    url: str
    label: str


# Each surface that lets a right be used registers how to find its tasks (a lower floor cannot
# look upward): a function from rights to {right id: Task}.
_task_finders: list[Callable[[list[Right]], dict[int, Task]]] = []


def register_right_tasks(finder: Callable[[list[Right]], dict[int, Task]]) -> None:
    _task_finders.append(finder)


def tasks_for(rights: Iterable[Right]) -> dict[int, Task]:
    """The task each right leads to, for the rights that have one in the portal."""
    rights = list(rights)
    tasks: dict[int, Task] = {}
    for finder in _task_finders:
        for right_id, task in finder(rights).items():
            tasks.setdefault(right_id, task)
    return tasks
