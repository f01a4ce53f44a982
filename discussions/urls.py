from django.urls import path

from discussions.views import comments, notifications, questions, quotes

group = "groups/<slug:group_slug>"

urlpatterns = [
    path(
        f"{group}/passages/<int:position>/comments/", comments.comment_create, name="comment_create"
    ),
    path(
        f"{group}/passages/<int:position>/comments/more/", comments.thread_more, name="thread_more"
    ),
    path(
        f"{group}/passages/<int:position>/comments/updates/",
        comments.comment_updates,
        name="comment_updates",
    ),
    path(f"{group}/comments/<int:comment_pk>/", comments.comment_thread, name="comment_thread"),
    path(f"{group}/comments/<int:comment_pk>/reply/", comments.comment_reply, name="comment_reply"),
    path(f"{group}/comments/<int:comment_pk>/edit/", comments.comment_edit, name="comment_edit"),
    path(
        f"{group}/comments/<int:comment_pk>/quote/",
        quotes.quote_reattach,
        name="quote_reattach",
    ),
    path(
        f"{group}/comments/<int:comment_pk>/delete/", comments.comment_delete, name="comment_delete"
    ),
    path(
        f"{group}/comments/<int:comment_pk>/helpful/",
        comments.comment_helpful,
        name="comment_helpful",
    ),
    path(f"{group}/comments/<int:comment_pk>/hide/", comments.comment_hide, name="comment_hide"),
    path(
        f"{group}/comments/<int:comment_pk>/unhide/", comments.comment_unhide, name="comment_unhide"
    ),
    path(f"{group}/comments/<int:comment_pk>/pin/", comments.comment_pin, name="comment_pin"),
    path(
        f"{group}/comments/<int:comment_pk>/highlight/",
        questions.answer_highlight,
        name="answer_highlight",
    ),
    path(f"{group}/questions/", questions.question_list, name="question_list"),
    path(f"{group}/questions/new/", questions.question_edit, name="question_create"),
    path(
        f"{group}/questions/<int:question_pk>/", questions.question_detail, name="question_detail"
    ),
    path(
        f"{group}/questions/<int:question_pk>/edit/", questions.question_edit, name="question_edit"
    ),
    path(f"{group}/questions/<int:question_pk>/answer/", questions.answer_save, name="answer_save"),
    path(
        f"{group}/questions/<int:question_pk>/close/",
        questions.question_close,
        name="question_close",
    ),
    path(
        f"{group}/questions/<int:question_pk>/move/", questions.question_move, name="question_move"
    ),
    path(
        f"{group}/questions/<int:question_pk>/delete/",
        questions.question_delete,
        name="question_delete",
    ),
    path("questions/", questions.my_questions, name="my_questions"),
    path("notifications/", notifications.notification_list, name="notification_list"),
    path("notifications/read/", notifications.notifications_read, name="notifications_read"),
    path(
        "notifications/<int:notification_pk>/",
        notifications.notification_open,
        name="notification_open",
    ),
    path(
        "settings/notifications/", notifications.notification_settings, name="notification_settings"
    ),
]
