"""Signals of the reading app, for the apps above it.

`text_revised` is sent inside the revision's transaction, after passages were
renumbered and their bodies replaced. The reading app cannot import the apps that
hang comments on passages (dependencies run one way: reading <- groups <-
discussions), so those apps subscribe instead (discussions re-anchors quotes and
moves threads of merged passages in `discussions.services.comments_follow_revision`).

Arguments: `text`, `revision`, `changed` (pks of passages whose body changed),
`absorbed` ({pk of a passage merged away: pk of the passage its words went into}),
`pieces` ({pk of a split passage: pks of all its pieces, itself included}).
"""

from django.dispatch import Signal

text_revised = Signal()
