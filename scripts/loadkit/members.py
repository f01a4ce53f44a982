"""Simulated members: each a thread that reads, polls, marks passages read, comments,
replies to the same few parents, answers questions and toggles helpful marks, at a
human-ish pace, against any of the app servers (as a load balancer would spread them).

Every write carries a one-time `submission_id` (a uuid4 the member makes for that
intended write). On a 5xx, a timeout or a dropped connection the member posts the
same form again, same `submission_id`, with backoff; on 429 it waits as told. A write
is *acknowledged* when a 2xx or 3xx came back (a redirect to the login page is not).
"""

import random
import re
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field

from loadkit.browser import Browser, Response

COMMENT_ID = re.compile(r"#comment-(\d+)")
POLL_AFTER = re.compile(rb"comments/updates/\?after=(\d+)")
WRITE_KINDS = ("comment", "reply", "answer", "progress", "helpful")
# action -> weight; about half of what a member does writes something
ACTIONS = {
    "read": 14,
    "poll": 36,
    "progress": 10,
    "comment": 12,
    "reply": 13,
    "answer": 5,
    "helpful": 10,
}
WORDS = [
    *("sect", "program", "class", "movement", "party", "vanguard", "lever", "scouting"),
    *("missionaries", "workers", "organization", "approach", "centre", "masses"),
    *("militants", "orientation", "aspiration", "essay"),
]


@dataclass
class Exchange:
    """One HTTP request and what came back."""

    t0: float
    t1: float
    kind: str
    method: str
    status: int | None  # None: no response (timeout, refused, reset)
    error: str
    server: int
    phase: str  # "setup" (logins, first page) or "run"


@dataclass
class Write:
    kind: str
    member: str
    submission_id: str
    position: int | None = None
    body: str = ""
    parent_id: int | None = None
    question_id: int | None = None
    comment_id: int | None = None  # the target of a helpful toggle, or from the redirect
    on: bool | None = None  # helpful toggles
    attempts: int = 0
    statuses: list = field(default_factory=list)
    outcome: str = "pending"  # acked, rejected, gave_up, login
    t0: float = 0.0
    t1: float = 0.0

    @property
    def acked(self) -> bool:
        return self.outcome == "acked"


class Recorder:
    def __init__(self):
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        self.writes: list[Write] = []
        self.crashes: list[str] = []

    def exchange(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def write(self, write: Write) -> None:
        with self._lock:
            self.writes.append(write)

    def crash(self, text: str) -> None:
        with self._lock:
            self.crashes.append(text)


class Discussion:
    """What the members collectively know of the discussion: comment ids per passage and
    a few "hot" top-level comments per passage that everyone replies to."""

    HOT = 3

    def __init__(self, comments: list[dict]):
        self._lock = threading.Lock()
        self.by_position: dict[int, list[tuple[int, str]]] = {}
        self.hot: dict[int, list[int]] = {}
        for comment in comments:
            self.add(comment["position"], comment["id"], comment["author"], comment["top"])

    def add(self, position: int, comment_id: int, author: str, top_level: bool) -> None:
        with self._lock:
            self.by_position.setdefault(position, []).append((comment_id, author))
            hot = self.hot.setdefault(position, [])
            if top_level and len(hot) < self.HOT:
                hot.append(comment_id)

    def parent(self, position: int, rng: random.Random) -> int | None:
        with self._lock:
            if self.hot.get(position) and rng.random() < 0.7:
                return rng.choice(self.hot[position])
            known = self.by_position.get(position)
            return rng.choice(known)[0] if known else None

    def others(self, member: str, rng: random.Random) -> int | None:
        with self._lock:
            candidates = [
                cid for comments in self.by_position.values() for cid, a in comments if a != member
            ]
        return rng.choice(candidates) if candidates else None


@dataclass
class Plan:
    ports: list[int]
    text: str
    group: str
    passages: int
    questions: list[dict]
    run_id: str
    think: tuple[float, float] = (1.0, 3.0)
    timeout: float = 30.0
    deadline: float = 0.0  # monotonic: no new actions after it
    retry_deadline: float = 0.0  # monotonic: no retries after it
    max_attempts: int = 30


def retry_after(response: Response | None, default: float) -> float:
    if response is not None:
        try:
            return min(max(float(response.header("Retry-After")), 0.1), 5.0)
        except ValueError:
            pass
    return default


class Member(threading.Thread):
    def __init__(
        self, *, name, plan: Plan, discussion: Discussion, recorder: Recorder, seed, login
    ):
        super().__init__(name=f"member-{name}", daemon=True)
        self.username = name
        self.login = login  # ("password", secret) or ("session", key)
        self.plan = plan
        self.discussion = discussion
        self.recorder = recorder
        self.rng = random.Random(seed)
        self.browser = Browser("127.0.0.1", plan.ports[0])
        self.position = self.rng.randint(1, plan.passages)
        self.after: dict[int, int] = {}
        self.etags: dict[int, str] = {}
        self.unanswered = [q["id"] for q in plan.questions if not q["closed"]]
        self.helpful: dict[int, bool] = {}
        self.phase = "setup"
        self.go = threading.Event()
        self.ready = threading.Event()
        self.failed_setup = ""

    # Requests -------------------------------------------------------------

    def request(self, kind, method, path, data=None, headers=None) -> Response | None:
        server = self.rng.randrange(len(self.plan.ports))
        t0 = time.monotonic()
        response, error = None, ""
        try:
            response = self.browser.request(
                method,
                path,
                data=data,
                headers=headers,
                timeout=self.plan.timeout,
                port=self.plan.ports[server],
            )
        except TimeoutError:
            error = "timeout"
        except OSError as exc:  # refused, reset, remote disconnected
            error = type(exc).__name__
        except Exception as exc:  # a malformed response is a result too
            error = type(exc).__name__
        status = response.status if response is not None else None
        self.recorder.exchange(
            Exchange(t0, time.monotonic(), kind, method, status, error, server, self.phase)
        )
        return response

    def post_write(self, write: Write, path: str, data: dict) -> Response | None:
        """Post one intended write until it is acknowledged, refused, or time runs out."""
        write.t0 = time.monotonic()
        self.recorder.write(write)
        delay = 0.25
        response = None
        while True:
            write.attempts += 1
            response = self.request(write.kind, "POST", path, data=data)
            status = response.status if response is not None else None
            write.statuses.append(status if status is not None else "no response")
            if status is not None and 200 <= status < 400:
                login = status in (301, 302, 303) and "/accounts/login/" in response.location
                write.outcome = "login" if login else "acked"
                break
            if status == 429:
                wait = retry_after(response, delay)
            elif status is None or status >= 500:
                wait = retry_after(response, delay) if status == 503 else delay
            else:
                write.outcome = "rejected"  # 4xx: the app said no (validation, permission)
                break
            if (
                write.attempts >= self.plan.max_attempts
                or time.monotonic() + wait > self.plan.retry_deadline
            ):
                write.outcome = "gave_up"
                break
            time.sleep(wait)
            delay = min(delay * 2, 4.0)
        write.t1 = time.monotonic()
        return response

    # Actions --------------------------------------------------------------

    def passage_path(self, position: int) -> str:
        return f"/texts/{self.plan.text}/{position}/?group={self.plan.group}"

    def read(self):
        if self.rng.random() < 0.2:
            self.position = self.position % self.plan.passages + 1
        response = self.request("read", "GET", self.passage_path(self.position))
        if response is not None and response.status == 200:
            found = [int(n) for n in POLL_AFTER.findall(response.body)]
            if found:
                self.after[self.position] = max(found)
                self.etags.pop(self.position, None)

    def poll(self):
        position = self.position
        after = self.after.get(position, 0)
        headers = {"HX-Request": "true"}
        if position in self.etags:
            headers["If-None-Match"] = self.etags[position]
        path = f"/groups/{self.plan.group}/passages/{position}/comments/updates/?after={after}"
        response = self.request("poll", "GET", path, headers=headers)
        if response is not None and response.status in (200, 204, 304):
            if response.header("ETag"):
                self.etags[position] = response.header("ETag")
            found = [int(n) for n in POLL_AFTER.findall(response.body)]
            if found and max(found) > after:
                self.after[position] = max(found)
                self.etags.pop(position, None)

    def progress(self):
        write = Write("progress", self.username, str(uuid.uuid4()), position=self.position)
        self.post_write(write, f"/texts/{self.plan.text}/{self.position}/progress/", {"read": "1"})

    def body(self, kind: str) -> str:
        words = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(3, 12)))
        mention = " @ada" if self.rng.random() < 0.05 else ""
        return f"Load {self.plan.run_id} {kind} by {self.username} [{uuid.uuid4()}]: *{words}*{mention}"

    def comment(self, parent_id: int | None = None):
        kind = "reply" if parent_id else "comment"
        write = Write(
            kind,
            self.username,
            str(uuid.uuid4()),
            position=self.position,
            body=self.body(kind),
            parent_id=parent_id,
        )
        data = {"body": write.body, "submission_id": write.submission_id}
        if parent_id:
            data["parent"] = str(parent_id)
        path = f"/groups/{self.plan.group}/passages/{self.position}/comments/"
        response = self.post_write(write, path, data)
        if write.acked:
            match = COMMENT_ID.search(response.location)
            if match:
                write.comment_id = int(match.group(1))
                self.discussion.add(
                    self.position, write.comment_id, self.username, top_level=not parent_id
                )

    def reply(self):
        parent = self.discussion.parent(self.position, self.rng)
        if parent is None:
            return self.comment()
        return self.comment(parent_id=parent)

    def answer(self):
        if not self.unanswered:
            return self.poll()
        question = self.unanswered.pop(self.rng.randrange(len(self.unanswered)))
        write = Write(
            "answer",
            self.username,
            str(uuid.uuid4()),
            body=self.body("answer"),
            question_id=question,
        )
        data = {"body": write.body, "submission_id": write.submission_id}
        self.post_write(write, f"/groups/{self.plan.group}/questions/{question}/answer/", data)

    def toggle_helpful(self):
        target = self.discussion.others(self.username, self.rng)
        if target is None:
            return self.poll()
        on = not self.helpful.get(target, False)
        write = Write("helpful", self.username, str(uuid.uuid4()), comment_id=target, on=on)
        path = f"/groups/{self.plan.group}/comments/{target}/helpful/"
        self.post_write(write, path, {"on": "1" if on else "0"})
        if write.acked:
            self.helpful[target] = on

    # The member's life ----------------------------------------------------

    def setup(self):
        """Log in (through the form, or with a session made by the set-up script) and
        open the first passage, which also hands out the CSRF cookie."""
        how, secret = self.login
        try:
            if how == "session":
                self.browser.cookies["sessionid"] = secret
            else:
                t0 = time.monotonic()
                response = self.browser.login(self.username, secret, timeout=120)
                self.recorder.exchange(
                    Exchange(t0, time.monotonic(), "login", "POST", response.status, "", 0, "setup")
                )
                if response.status != 302 or "sessionid" not in self.browser.cookies:
                    raise RuntimeError(f"login answered {response.status}")
            self.read()
            if "csrftoken" not in self.browser.cookies:
                raise RuntimeError("the passage page set no csrftoken cookie")
        except Exception as exc:  # reported, and the run fails
            self.failed_setup = f"{self.username}: {exc}"

    def run(self):
        try:
            self.setup()
            self.ready.set()
            self.go.wait()
            self.phase = "run"
            if self.failed_setup:
                return
            actions = list(ACTIONS)
            weights = list(ACTIONS.values())
            while time.monotonic() < self.plan.deadline:
                action = self.rng.choices(actions, weights)[0]
                getattr(self, "toggle_helpful" if action == "helpful" else action)()
                pause = self.rng.uniform(*self.plan.think)
                time.sleep(max(0.0, min(pause, self.plan.deadline - time.monotonic())))
        except Exception:  # a crashed member fails the run, with its traceback
            self.recorder.crash(f"{self.username}:\n{traceback.format_exc()}")
