"""Seeing the group at a glance: the facilitator's progress grid (members by passages:
read, commented, answered), the group's activity per week as a server-drawn SVG chart,
and a reader's own page. Each is read with a fixed number of aggregate queries."""

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from discussions import selectors as discussion_selectors
from groups import selectors as group_selectors
from groups.models import Meeting, Membership, StudyGroup
from reading import selectors as reading_selectors

# Passages per page of the grid when it shows the whole text.
GRID_PASSAGES_PER_PAGE = 20
SORTS = {"name": "Name", "most": "Most read first", "least": "Least read first"}
SCOPES = {"all": "All passages", "meeting": "The next meeting's passages"}


def choice(value, choices: dict, default: str) -> str:
    """A GET parameter, if it is one of the choices (anything else: the default)."""
    return value if isinstance(value, str) and value in choices else default


def page_number(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return number if 1 <= number <= 100_000 else 1


@dataclass(frozen=True)
class GridCell:
    position: int
    read: bool
    commented: bool
    answered: bool

    @property
    def label(self) -> str:
        """The cell in words, for screen readers (and anyone without the colours)."""
        return ", ".join(
            (
                "read" if self.read else "not read",
                "commented" if self.commented else "no comment",
                "answered a question" if self.answered else "no answer",
            )
        )


@dataclass(frozen=True)
class GridRow:
    username: str
    role_label: str
    is_you: bool
    read: int  # of the passages shown
    cells: list[GridCell]


@dataclass(frozen=True)
class ProgressGrid:
    group: StudyGroup
    positions: list[int]
    rows: list[GridRow]
    sort: str
    scope: str  # what was shown: "all", or "meeting" when there is a next meeting
    next_meeting: Meeting | None
    page: int
    page_count: int

    @property
    def page_range(self) -> range:
        return range(1, self.page_count + 1)

    @property
    def read_per_passage(self) -> list[int]:
        return [
            sum(1 for row in self.rows if row.cells[i].read) for i in range(len(self.positions))
        ]


def progress_grid(
    *, membership: Membership, sort: str = "name", scope: str = "all", page: int = 1, now=None
) -> ProgressGrid:
    """Members by passages. Queries: the next meeting, the passages, the members, and one
    aggregate each over progress, comments and answers, however many members."""
    group = membership.group
    now = now or timezone.now()
    next_meeting = group.meetings.upcoming(now).first()
    passages = list(group.text.passages.order_by("position").values_list("pk", "position"))
    if scope == "meeting" and next_meeting is not None:
        passages = [(pk, pos) for pk, pos in passages if next_meeting.covers(pos)]
        page_count, page = 1, 1
    else:
        scope = "all"
        page_count = max(1, math.ceil(len(passages) / GRID_PASSAGES_PER_PAGE))
        page = min(page, page_count)
        start = (page - 1) * GRID_PASSAGES_PER_PAGE
        passages = passages[start : start + GRID_PASSAGES_PER_PAGE]
    passage_ids = [pk for pk, _ in passages]
    members = list(
        Membership.objects.filter(group=group).select_related("user").order_by("user__username")
    )
    reader_ids = group_selectors.member_user_ids(group)
    read = reading_selectors.read_cells(reader_ids=reader_ids, passage_ids=passage_ids)
    commented = discussion_selectors.commented_cells(membership=membership, passage_ids=passage_ids)
    answered: set[tuple[int, int]] = set()
    if passages:
        for author_id, first, last in discussion_selectors.answered_ranges(
            membership=membership, first_position=passages[0][1], last_position=passages[-1][1]
        ):
            answered.update((author_id, pos) for _, pos in passages if first <= pos <= last)
    rows = []
    for member in members:
        uid = member.user_id
        cells = [
            GridCell(
                position=pos,
                read=(uid, pk) in read,
                commented=(uid, pk) in commented,
                answered=(uid, pos) in answered,
            )
            for pk, pos in passages
        ]
        rows.append(
            GridRow(
                username=member.user.username,
                role_label=member.get_role_display(),
                is_you=uid == membership.user_id,
                read=sum(1 for cell in cells if cell.read),
                cells=cells,
            )
        )
    if sort == "most":
        rows.sort(key=lambda row: (-row.read, row.username))
    elif sort == "least":
        rows.sort(key=lambda row: (row.read, row.username))
    return ProgressGrid(
        group=group,
        positions=[pos for _, pos in passages],
        rows=rows,
        sort=sort,
        scope=scope,
        next_meeting=next_meeting,
        page=page,
        page_count=page_count,
    )


# The activity chart -----------------------------------------------------------------

CHART_WEEKS = 26
CHART_WIDTH, CHART_HEIGHT = 640, 260
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 44, 630, 30, 214
MAX_X_LABELS = 8


@dataclass(frozen=True)
class WeekActivity:
    week: date  # its Monday
    passages_read: int
    comments: int


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class XLabel:
    x: float
    text: str


@dataclass(frozen=True)
class ActivityChart:
    weeks: list[WeekActivity]
    scale_max: int
    read_bars: list[Bar]
    comment_bars: list[Bar]
    ticks: list[Tick]
    x_labels: list[XLabel]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    plot_left: int = PLOT_LEFT
    plot_right: int = PLOT_RIGHT
    plot_top: int = PLOT_TOP
    plot_bottom: int = PLOT_BOTTOM

    @property
    def total_read(self) -> int:
        return sum(w.passages_read for w in self.weeks)

    @property
    def total_comments(self) -> int:
        return sum(w.comments for w in self.weeks)

    @property
    def is_empty(self) -> bool:
        return self.total_read == 0 and self.total_comments == 0


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50... at least `value` (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def activity_chart(*, group: StudyGroup, now: datetime | None = None) -> ActivityChart:
    """Passages read by the members and comments written, per week, over the last
    CHART_WEEKS weeks (from the group's creation if later); two aggregate queries."""
    now = now or timezone.now()
    this_week = monday(timezone.localdate(now))
    first_week = max(
        this_week - timedelta(weeks=CHART_WEEKS - 1), monday(timezone.localdate(group.created_at))
    )
    since = timezone.make_aware(datetime.combine(first_week, datetime.min.time()))
    read = reading_selectors.reads_per_week(
        reader_ids=group_selectors.member_user_ids(group), text=group.text, since=since
    )
    comments = discussion_selectors.comments_per_week(group_id=group.pk, since=since)
    weeks = []
    week = first_week
    while week <= this_week:
        weeks.append(WeekActivity(week, read.get(week, 0), comments.get(week, 0)))
        week += timedelta(weeks=1)
    scale_max = nice_ceiling(max([0, *(max(w.passages_read, w.comments) for w in weeks)]))
    plot_height = PLOT_BOTTOM - PLOT_TOP
    slot = (PLOT_RIGHT - PLOT_LEFT) / len(weeks)
    bar_width = min(slot * 0.4, 24)

    def bar(index: int, offset: float, value: int) -> Bar:
        height = round(plot_height * value / scale_max, 1)
        x = PLOT_LEFT + index * slot + slot / 2 + offset
        return Bar(round(x, 1), round(PLOT_BOTTOM - height, 1), round(bar_width, 1), height, value)

    read_bars = [bar(i, -bar_width, w.passages_read) for i, w in enumerate(weeks)]
    comment_bars = [bar(i, 0, w.comments) for i, w in enumerate(weeks)]
    step = scale_max // 4 if scale_max >= 4 else 1
    ticks = [
        Tick(value, round(PLOT_BOTTOM - plot_height * value / scale_max, 1))
        for value in range(0, scale_max + 1, step)
    ]
    every = math.ceil(len(weeks) / MAX_X_LABELS)
    x_labels = [
        XLabel(round(PLOT_LEFT + i * slot + slot / 2, 1), f"{w.week.day} {w.week:%b}")
        for i, w in enumerate(weeks)
        if (len(weeks) - 1 - i) % every == 0
    ]
    return ActivityChart(
        weeks=weeks,
        scale_max=scale_max,
        read_bars=read_bars,
        comment_bars=comment_bars,
        ticks=ticks,
        x_labels=x_labels,
    )


# A reader's own page ---------------------------------------------------------------


@dataclass(frozen=True)
class MyPage:
    texts: list
    comments: list
    open_questions: list
    meetings: list[Meeting]


def my_page(*, user, now=None) -> MyPage:
    now = now or timezone.now()
    questions = discussion_selectors.questions_for_user(user=user, now=now)
    return MyPage(
        texts=[row for row in reading_selectors.texts_with_progress(user=user)],
        comments=discussion_selectors.my_recent_comments(user=user),
        open_questions=questions["overdue"] + questions["due_soon"] + questions["open"],
        meetings=group_selectors.next_meetings_for_user(user=user, now=now),
    )


# The contents page: each passage's discussion in the selected group -----------------

ACTIVITY_BAR_WIDTH = 60


@dataclass(frozen=True)
class ContentsActivity:
    comments: int
    open_questions: int
    bar_width: int  # of ACTIVITY_BAR_WIDTH, relative to the busiest passage listed


def contents_activity(*, membership: Membership | None, text_id: int, positions: list[int]):
    """Per position listed: comments and open questions, with a bar width; one query."""
    if membership is None or not positions:
        return {}
    counts = discussion_selectors.passage_activity(
        membership=membership, text_id=text_id, positions=positions
    )
    busiest = max((a.comments for a in counts.values()), default=0)
    return {
        position: ContentsActivity(
            comments=a.comments,
            open_questions=a.open_questions,
            bar_width=round(ACTIVITY_BAR_WIDTH * a.comments / busiest) if busiest else 0,
        )
        for position, a in counts.items()
    }
