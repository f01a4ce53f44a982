"""The form field for anything written in Markdown (comments, answers, questions, a
meeting's agenda and notes)."""

import re

from django import forms


class MarkdownField(forms.CharField):
    """What was typed, indentation included (four leading spaces make a Markdown code
    block): only the blank lines before it and the whitespace after it are dropped, so
    blanks alone are empty."""

    BLANK_LINES_BEFORE = re.compile(r"\A(?:[ \t]*\r?\n)+")

    def __init__(self, **kwargs):
        kwargs["strip"] = False
        super().__init__(**kwargs)

    def to_python(self, value):
        return self.BLANK_LINES_BEFORE.sub("", super().to_python(value)).rstrip()
