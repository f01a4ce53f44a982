"""The search form: every parameter of /search/ read and cleaned here."""

import unicodedata

from django import forms

QUERY_MAX_LENGTH = 200


def clean_query_text(value: str) -> tuple[str, bool]:
    """The words to search for, without control characters (NUL bytes), lone
    surrogates or runs of spaces, cut to QUERY_MAX_LENGTH; and whether it was cut."""
    kept = "".join(
        " " if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} else char
        for char in value
    )
    words = " ".join(kept.split())
    return words[:QUERY_MAX_LENGTH].strip(), len(words) > QUERY_MAX_LENGTH


class SearchForm(forms.Form):
    KIND_CHOICES = [("", "Everything"), ("passages", "Passages"), ("discussions", "Discussions")]

    # Read leniently: a hostile or over-long query is cleaned, never refused.
    q = forms.CharField(required=False, strip=False, label="Search")
    kind = forms.ChoiceField(required=False, choices=KIND_CHOICES, label="In")
    group = forms.CharField(required=False, label="Group")
    author = forms.CharField(required=False, label="Author")
    questions = forms.BooleanField(required=False, label="Questions and answers only")

    def __init__(self, *args, group_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].widget = forms.Select(choices=[("", "All my groups"), *group_choices])
        self.truncated = False

    def clean_q(self):
        query, self.truncated = clean_query_text(self.cleaned_data.get("q") or "")
        return query

    def clean_group(self):
        return clean_query_text(self.cleaned_data.get("group") or "")[0][:100]

    def clean_author(self):
        return clean_query_text(self.cleaned_data.get("author") or "")[0][:150]
