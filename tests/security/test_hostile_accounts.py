"""Hostile input to the account pages that the fuzzing does not reach: names longer
than any account's, NUL bytes in an email. Each gets the page's usual answer."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_login_with_a_name_longer_than_any_account_s_is_a_wrong_login(db, url):
    response = Client().post(url, {"username": "u" * 300, "password": "wrong"})

    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    # The failure is counted, under the longest name an account can have.
    assert AccessAttempt.objects.get().username == "u" * 150


@pytest.mark.parametrize("email", ["a\x00@example.com", "\x00", "member@example.com\x00"])
def test_password_reset_with_a_nul_byte_is_refused_by_the_form(db, email):
    response = Client().post(reverse("password_reset"), {"email": email})

    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()
