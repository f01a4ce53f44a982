"""The range of dates sectstudy accepts: 1900 to 2199.

Python can hold years 1 to 9999, but an aware time near either end cannot be moved
to another time zone ("9999-12-31T23:59-14:00" is in the year 10000 in UTC), and a
stored value that cannot be read back breaks every page that shows it. Forms refuse
dates outside this range with a message; database constraints refuse the rest.
"""

from datetime import UTC, datetime

from django import forms
from django.db.models import Q
from django.utils import timezone

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = "Choose a date between the years 1900 and 2199."
# The browser's date and time picker, kept inside the range.
DATETIME_LOCAL = {"type": "datetime-local", "min": "1900-01-01T00:00", "max": "2199-12-31T23:59"}


def in_range_condition(field: str, *, nullable: bool) -> Q:
    """A CheckConstraint condition keeping `field` inside the range."""
    condition = Q(**{f"{field}__gte": EARLIEST, f"{field}__lt": LATEST})
    return Q(**{f"{field}__isnull": True}) | condition if nullable else condition


class BoundedDateTimeField(forms.DateTimeField):
    """A date and time in the accepted range, whatever offset or year is typed. A time
    the clocks pass twice (when they go back) is its first passing, as calendar apps
    take it; one they skip (when they go forward) is refused in words."""

    def to_python(self, value):
        try:
            try:
                result = super().to_python(value)
            except forms.ValidationError as error:
                if error.code != "ambiguous_timezone":
                    raise
                result = self._at_a_clock_change(value)
            in_range = result is None or EARLIEST <= result < LATEST
        except OverflowError:
            in_range = False
        if not in_range:
            raise forms.ValidationError(OUT_OF_RANGE, code="out_of_range")
        return result

    def _at_a_clock_change(self, value) -> datetime:
        zone = timezone.get_current_timezone()
        with timezone.override(UTC):  # the wall time as typed, without a zone's doubts
            wall = super().to_python(value).replace(tzinfo=None)
        first = wall.replace(tzinfo=zone)  # fold=0: the first of two passings
        if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
            raise forms.ValidationError(
                "%(time)s does not exist in %(zone)s: the clocks go forward then. "
                "Choose another time.",
                code="skipped_time",
                params={"time": f"{wall:%H:%M} on {wall.day} {wall:%B %Y}", "zone": str(zone)},
            )
        return first
