"""Demo discussion and questions for the demo group (see groups.demo). Idempotent."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from discussions import services
from discussions.models import Comment, Question


def load_discussion_demo(group) -> None:
    with services.emails_muted():
        _load(group)


def _load(group) -> None:
    users = {
        user.username: user
        for user in get_user_model().objects.filter(username__in=["ada", "ben", "chloe", "dev"])
    }
    passages = {p.position: p for p in group.text.passages.all()}
    ada, ben, chloe = users["ada"], users["ben"], users["chloe"]

    if not Comment.objects.discussion().filter(group=group).exists():
        opening = services.comment_create(
            author=ada,
            group=group,
            passage=passages[1],
            body="He names three approaches but only spells out one here. Which two are left?",
            quote="we have seen three approaches so far",
        )
        reply = services.comment_create(
            author=ben,
            group=group,
            passage=passages[1],
            body="The sect, and the party that grows out of the class movement. The rest of the essay is the comparison.",
            parent=opening,
        )
        services.comment_create(
            author=chloe,
            group=group,
            passage=passages[1],
            body="@ada I read *vanguard and class* as the real subject: the organizational forms come second.",
            parent=reply,
        )
        services.comment_create(
            author=chloe,
            group=group,
            passage=passages[2],
            body="“Scouting parties” and “missionaries”: the metaphors do a lot of work. The passage breaks off mid-sentence in our copy.",
            quote="scouting parties",
        )
        services.comment_create(
            author=ben,
            group=group,
            passage=passages[3],
            body="**Levers** rather than recruits: that is the contrast to hold on to.",
            quote="go after the levers",
        )

    if not Question.objects.filter(group=group).exists():
        now = timezone.now()
        meeting = group.meetings.scheduled().order_by("starts_at").first()
        on_sect = services.question_create(
            facilitator=ada,
            group=group,
            first_position=2,
            last_position=2,
            body="What does the sect mean by its working-class character, if not its composition?",
            due_at=None,
            meeting=meeting,
            answer_first=False,
        )
        services.answer_save(
            author=ben,
            question=on_sect,
            body="Its aspiration and orientation: a claim about where it points, not what it is.",
        )
        services.answer_save(
            author=chloe,
            question=on_sect,
            body="A programme held on behalf of a class that is not in the room.",
        )
        blind = services.question_create(
            facilitator=ada,
            group=group,
            first_position=3,
            last_position=5,
            body="In your own words: what is the difference between *lifting up* workers and *getting the class moving*?",
            due_at=None,
            meeting=meeting,
            answer_first=True,
        )
        services.answer_save(
            author=ben,
            question=blind,
            body="One recruits individuals to the programme; the other moves masses through their own action.",
        )
        overdue = services.question_create(
            facilitator=ada,
            group=group,
            first_position=1,
            last_position=1,
            body="Which of the three approaches does the author throw out, and why?",
            due_at=now - timedelta(days=2),
            meeting=None,
            answer_first=False,
        )
        services.answer_save(
            author=ben, question=overdue, body="Individual militants without a political centre."
        )
