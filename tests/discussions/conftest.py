"""Fixtures for the discussion tests: logged-in clients, a passage, a second group."""

import pytest

from groups.models import Membership
from tests.discussions.helpers import logged_in
from tests.factories import make_group, make_user


@pytest.fixture
def passage(essay):
    """Passage 1: "To sum up: we have seen three approaches so far. ..." """
    return essay.passages.get(position=1)


@pytest.fixture
def other_member(group):
    user = make_user("other")
    Membership.objects.create(group=group, user=user, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def other_group(essay, outsider):
    """A second group on the same text, of which `outsider` is the facilitator."""
    return make_group(essay, facilitator=outsider, name="Other circle")


@pytest.fixture
def outsider_client(outsider):
    return logged_in(outsider)


@pytest.fixture
def other_client(other_member):
    return logged_in(other_member)
