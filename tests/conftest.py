import pytest
from django.core.cache import caches

from reading.services import shipped_essay_import
from tests.factories import logged_in, make_group, make_user


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The default hasher costs ~0.5 s per user; tests don't need its strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_fragment_cache():
    # Rendered comments are keyed by id and time of change, headers by user id; ids and
    # frozen times repeat between tests, so no test may see another's.
    caches["template_fragments"].clear()
    caches["site_headers"].clear()


@pytest.fixture
def essay(db):
    """The shipped essay, "Anatomy of the Sect", imported."""
    return shipped_essay_import().text


@pytest.fixture
def reader(db):
    return make_user("reader")


@pytest.fixture
def facilitator(db):
    return make_user("facilitator")


@pytest.fixture
def member(db):
    return make_user("member")


@pytest.fixture
def outsider(db):
    return make_user("outsider")


@pytest.fixture
def group(essay, facilitator, member):
    return make_group(essay, facilitator=facilitator, name="Reading circle", members=[member])


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


@pytest.fixture
def member_client(member):
    return logged_in(member)


@pytest.fixture
def facilitator_client(facilitator):
    return logged_in(facilitator)
