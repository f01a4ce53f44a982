"""After the run: what the database holds, compared with what the members were told.

Straight SQL on the tables (psycopg), independent of the app's code. A check whose
tables or columns do not exist yet is reported as skipped, with the reason.
"""

import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from loadkit.members import Write

EMAIL_COMMENT = re.compile(r"#comment-(\d+)")


@dataclass
class Check:
    name: str
    status: str = "ok"  # ok, FAIL, skipped
    summary: str = ""
    details: list[str] = field(default_factory=list)

    def fail(self, detail: str) -> None:
        self.status = "FAIL"
        self.details.append(detail)


@dataclass
class Counts:
    attempted: Counter = field(default_factory=Counter)
    acked: Counter = field(default_factory=Counter)
    found_once: Counter = field(default_factory=Counter)
    lost: Counter = field(default_factory=Counter)
    duplicated: Counter = field(default_factory=Counter)
    unacked_stored: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)


def _columns(connection, table: str) -> set[str]:
    rows = connection.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table]
    ).fetchall()
    return {name for (name,) in rows}


class Verifier:
    def __init__(self, connection, setup: dict, writes: list[Write]):
        self.db = connection
        self.setup = setup
        self.writes = writes
        self.user_ids = {m["username"]: m["id"] for m in setup["members"]}
        self.position_of = {int(pid): int(pos) for pos, pid in setup["passages"].items()}
        self.passage_id = {int(pos): int(pid) for pos, pid in setup["passages"].items()}
        self.counts = Counts()
        self.checks: list[Check] = []
        self.comments = self.db.execute(
            "SELECT id, body, author_id, parent_id, root_id, group_id, passage_id, question_id"
            " FROM discussions_comment"
        ).fetchall()
        self.by_id = {row[0]: row for row in self.comments}

    def run(self, emails: Callable[[], list], wait_for_emails: float) -> list[Check]:
        for check in (
            self.check_writes_stored_once,
            self.check_threads,
            self.check_duplicate_rows,
            self.check_progress,
            self.check_helpful,
            self.check_reply_notifications,
        ):
            self.checks.append(check())
        self.checks.append(self.check_emails(emails, wait_for_emails))
        self.checks.append(self.check_task_queue())
        return self.checks

    # Comments, replies, answers ------------------------------------------------

    def check_writes_stored_once(self) -> Check:
        check = Check("acknowledged comments, replies and answers stored exactly once")
        by_body = defaultdict(list)
        for row in self.comments:
            by_body[row[1]].append(row)
        for write in self.writes:
            self.counts.attempted[write.kind] += 1
            self.counts.outcomes[(write.kind, write.outcome)] += 1
            if write.acked:
                self.counts.acked[write.kind] += 1
            if write.kind not in ("comment", "reply", "answer"):
                continue
            rows = by_body.get(write.body, [])
            if len(rows) > 1:
                self.counts.duplicated[write.kind] += 1
                check.fail(
                    f"DUPLICATED {write.kind} by {write.member} ({len(rows)} rows: "
                    f"{[r[0] for r in rows]}), submission {write.submission_id}, "
                    f"statuses {write.statuses}"
                )
            elif not rows and write.acked:
                self.counts.lost[write.kind] += 1
                check.fail(
                    f"LOST {write.kind} by {write.member}, submission {write.submission_id}, "
                    f"statuses {write.statuses}"
                )
            elif rows and not write.acked:
                self.counts.unacked_stored[write.kind] += 1
            if len(rows) == 1 and write.acked:
                self.counts.found_once[write.kind] += 1
            for row in rows[:1]:
                self._check_row(check, write, row)
        kinds = ("comment", "reply", "answer")
        check.summary = ", ".join(
            f"{kind} {self.counts.found_once[kind]}/{self.counts.acked[kind]} found once"
            for kind in kinds
        )
        return check

    def _check_row(self, check: Check, write: Write, row) -> None:
        comment_id, _body, author_id, parent_id, _root, group_id, passage_id, question_id = row
        wrong = []
        if author_id != self.user_ids.get(write.member):
            wrong.append(f"author {author_id}")
        if group_id != self.setup["group_id"]:
            wrong.append(f"group {group_id}")
        if (
            write.kind in ("comment", "reply")
            and self.position_of.get(passage_id) != write.position
        ):
            wrong.append(f"passage {passage_id}")
        if write.kind == "reply" and parent_id != write.parent_id:
            wrong.append(f"parent {parent_id} instead of {write.parent_id}")
        if write.kind == "answer" and (question_id != write.question_id or parent_id is not None):
            wrong.append(f"question {question_id}, parent {parent_id}")
        if (
            write.comment_id is not None
            and write.kind != "helpful"
            and write.comment_id != comment_id
        ):
            wrong.append(f"the redirect named comment {write.comment_id}")
        if wrong:
            check.fail(
                f"{write.kind} {comment_id} by {write.member} stored wrongly: {', '.join(wrong)}"
            )

    # Threads --------------------------------------------------------------

    def check_threads(self) -> Check:
        check = Check("every thread is a consistent tree")
        for row in self.comments:
            comment_id, _b, _a, parent_id, root_id, group_id, passage_id, question_id = row
            if parent_id is None:
                if root_id is not None:
                    check.fail(f"comment {comment_id}: top level but root_id {root_id}")
                continue
            parent = self.by_id.get(parent_id)
            if parent is None:
                check.fail(f"comment {comment_id}: parent {parent_id} does not exist")
                continue
            if (parent[5], parent[6]) != (group_id, passage_id):
                check.fail(
                    f"comment {comment_id}: parent {parent_id} is in group {parent[5]} passage "
                    f"{parent[6]}, the reply in group {group_id} passage {passage_id}"
                )
            if parent[7] != question_id:
                check.fail(f"comment {comment_id}: question {question_id}, parent's {parent[7]}")
            seen, node = {comment_id}, parent
            while node[3] is not None:
                if node[0] in seen or node[3] not in self.by_id:
                    check.fail(f"comment {comment_id}: its ancestors loop or break at {node[0]}")
                    break
                seen.add(node[0])
                node = self.by_id[node[3]]
            else:
                if root_id != node[0]:
                    check.fail(f"comment {comment_id}: root_id {root_id}, thread root {node[0]}")
        check.summary = f"{len(self.comments)} comments"
        return check

    # Duplicated rows ------------------------------------------------------

    DUPLICATE_KEYS = (
        ("discussions_comment", ("author_id", "body")),
        ("discussions_comment", ("author_id", "submission_id")),
        ("discussions_question", ("created_by_id", "submission_id")),
        ("reading_readingprogress", ("reader_id", "passage_id")),
        ("discussions_helpfulmark", ("comment_id", "user_id")),
        ("discussions_notification", ("recipient_id", "kind", "comment_id")),
        ("discussions_passagevisit", ("user_id", "group_id", "passage_id")),
        ("groups_membership", ("group_id", "user_id")),
    )

    def check_duplicate_rows(self) -> Check:
        check = Check("no duplicated rows")
        skipped, looked = [], 0
        for table, key in self.DUPLICATE_KEYS:
            if not set(key) <= _columns(self.db, table):
                skipped.append(f"{table}({', '.join(key)})")
                continue
            looked += 1
            columns = ", ".join(key)
            not_null = " AND ".join(f"{c} IS NOT NULL" for c in key)
            rows = self.db.execute(
                f"SELECT {columns}, count(*) FROM {table} WHERE {not_null}"  # noqa: S608 - our constants
                f" GROUP BY {columns} HAVING count(*) > 1"
            ).fetchall()
            for row in rows:
                check.fail(f"{table}: {dict(zip(key, row[:-1], strict=True))} x{row[-1]}")
        check.summary = f"{looked} unique keys looked at"
        if skipped:
            check.summary += f"; not there yet: {', '.join(skipped)}"
        return check

    # Progress and helpful marks --------------------------------------------

    def check_progress(self) -> Check:
        check = Check("acknowledged 'mark as read' stored")
        stored = set(
            self.db.execute("SELECT reader_id, passage_id FROM reading_readingprogress").fetchall()
        )
        acked = {
            (self.user_ids[w.member], self.passage_id[w.position])
            for w in self.writes
            if w.kind == "progress" and w.acked
        }
        for missing in sorted(acked - stored):
            check.fail(f"LOST progress: user {missing[0]} passage {missing[1]}")
        check.summary = f"{len(acked & stored)}/{len(acked)} (reader, passage) pairs found"
        return check

    def check_helpful(self) -> Check:
        check = Check("helpful marks as last acknowledged")
        last: dict[tuple[int, int], Write] = {}
        for write in sorted(
            (w for w in self.writes if w.kind == "helpful"), key=lambda w: (w.member, w.t0)
        ):
            last[(self.user_ids[write.member], write.comment_id)] = write
        stored = set(
            self.db.execute("SELECT user_id, comment_id FROM discussions_helpfulmark").fetchall()
        )
        compared = 0
        for pair, write in last.items():
            if not write.acked:
                continue  # the last toggle went unanswered: either state is possible
            compared += 1
            if (pair in stored) != write.on:
                check.fail(f"helpful by {write.member} on {pair[1]}: expected on={write.on}")
        check.summary = f"{compared} (member, comment) pairs compared"
        return check

    # Notifications and emails -----------------------------------------------

    def _expected_replies(self) -> list[tuple[int, int]]:
        """(comment id, parent author id) for every reply written during the run to
        someone else's comment."""
        since = self.setup["max_comment_id"]
        expected = []
        for comment_id, _b, author_id, parent_id, *_ in self.comments:
            if comment_id <= since or parent_id is None:
                continue
            parent_author = self.by_id[parent_id][2]
            if parent_author is not None and parent_author != author_id:
                expected.append((comment_id, parent_author))
        return expected

    def check_reply_notifications(self) -> Check:
        check = Check("one reply notification per reply")
        stored = Counter(
            self.db.execute(
                "SELECT comment_id, recipient_id FROM discussions_notification"
                " WHERE kind = 'reply' AND comment_id > %s",
                [self.setup["max_comment_id"]],
            ).fetchall()
        )
        expected = self._expected_replies()
        for pair in expected:
            if stored[pair] != 1:
                check.fail(f"reply {pair[0]} to user {pair[1]}: {stored[pair]} notifications")
        for pair in set(stored) - set(expected):
            check.fail(f"unexpected reply notification: comment {pair[0]} to user {pair[1]}")
        check.summary = f"{len(expected)} expected"
        return check

    def check_emails(self, emails: Callable[[], list], wait: float) -> Check:
        check = Check("one reply email per reply notification")
        opted_out = {
            user_id
            for (user_id,) in self.db.execute(
                "SELECT user_id FROM discussions_notificationpreference WHERE NOT email_replies"
            ).fetchall()
        }
        addresses = dict(self.db.execute("SELECT id, email FROM auth_user").fetchall())
        expected = Counter(
            (comment_id, addresses[recipient])
            for comment_id, recipient in self._expected_replies()
            if recipient not in opted_out and addresses.get(recipient)
        )

        def sent() -> Counter:
            counts = Counter()
            for message in emails():
                if "replied to you" not in message.subject:
                    continue
                match = EMAIL_COMMENT.search(message.body)
                for address in message.recipients:
                    counts[(int(match.group(1)) if match else None, address)] += 1
            return counts

        deadline = time.monotonic() + wait
        while sum(sent().values()) < sum(expected.values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # a last late or duplicate email
        counts = sent()
        missing = [pair for pair in expected if counts[pair] == 0]
        extra = [pair for pair, n in counts.items() if n > expected.get(pair, 0) and n > 0]
        for pair in missing[:50]:
            check.fail(f"MISSING email: comment {pair[0]} to {pair[1]}")
        for pair in extra[:50]:
            check.fail(f"EXTRA email: comment {pair[0]} to {pair[1]} x{counts[pair]}")
        check.summary = (
            f"{sum(expected.values())} expected, {sum(counts.values())} sent, "
            f"{len(missing)} missing, {len(extra)} duplicated or unexpected"
        )
        return check

    def check_task_queue(self) -> Check:
        check = Check("task queue: no task failed, none left waiting")
        table = "django_tasks_database_dbtaskresult"
        if not _columns(self.db, table):
            check.status = "skipped"
            check.summary = "no database task queue (TASKS runs tasks in the web process)"
            return check

        def statuses_now() -> dict:
            query = f"SELECT status, count(*) FROM {table} GROUP BY status"  # noqa: S608 - a constant
            return dict(self.db.execute(query).fetchall())

        # A task whose email has arrived may still be recording its success: give the
        # worker a bounded moment to finish what it holds.
        deadline = time.monotonic() + 15
        statuses = statuses_now()
        while (statuses.get("READY") or statuses.get("RUNNING")) and time.monotonic() < deadline:
            time.sleep(0.2)
            statuses = statuses_now()
        for status in ("FAILED", "READY", "RUNNING"):
            if statuses.get(status):
                check.fail(f"{statuses[status]} tasks {status}")
        for path, exception in self.db.execute(
            f"SELECT task_path, exception_class_path FROM {table} WHERE status = 'FAILED' LIMIT 5"  # noqa: S608
        ).fetchall():
            check.details.append(f"failed: {path}: {exception}")
        check.summary = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())) or "empty"
        return check
