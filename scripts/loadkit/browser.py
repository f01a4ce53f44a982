"""A tiny HTTP client for one simulated member: cookies, CSRF, no redirects followed.

It speaks to the app as the TLS-terminating proxy in front of it would: with
`X-Forwarded-Proto: https`, so production's secure cookies and CSRF origin checks are
the ones exercised, over plain HTTP on loopback.
"""

import http.client
import http.cookies
import re
import urllib.parse
from dataclasses import dataclass

CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


class Browser:
    def __init__(self, host: str, port: int):
        self.host = host
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def origin(self) -> str:
        return f"https://{self.host}:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        data: dict | None = None,
        headers: dict | None = None,
        timeout: float = 30,
        port: int | None = None,
    ) -> Response:
        port = port or self.port
        sent = {
            "Host": f"{self.host}:{port}",
            "X-Forwarded-Proto": "https",
            "User-Agent": "sectstudy-loadtest",
            "Connection": "close",
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method != "GET":
            sent["Origin"] = f"https://{self.host}:{port}"
            if "csrftoken" in self.cookies:
                sent["X-CSRFToken"] = self.cookies["csrftoken"]
            body = urllib.parse.urlencode(data or {}).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        connection = http.client.HTTPConnection(self.host, port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=sent)
            raw = connection.getresponse()
            content = raw.read()
        finally:
            connection.close()
        self._store_cookies(raw.headers.get_all("Set-Cookie") or [])
        return Response(raw.status, raw.headers, content)

    def _store_cookies(self, lines: list[str]) -> None:
        for line in lines:
            cookie = http.cookies.SimpleCookie()
            cookie.load(line)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def login(self, username: str, password: str, timeout: float = 60) -> Response:
        """Log in through the login form, as a person does (GET, then POST with the token)."""
        page = self.request("GET", "/accounts/login/", timeout=timeout)
        match = CSRF_FIELD.search(page.body)
        if page.status != 200 or match is None:
            raise RuntimeError(f"login page answered {page.status} without a CSRF token")
        return self.request(
            "POST",
            "/accounts/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": match.group(1).decode(),
            },
            timeout=timeout,
        )
