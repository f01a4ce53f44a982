from django.db import migrations


def forget_tombstones_words(apps, schema_editor):
    """Comments deleted before deleting also cleared the quote kept what they quoted;
    a deleted comment keeps no words (Comment.forget_words), so the quote goes too."""
    Comment = apps.get_model("discussions", "Comment")
    Comment.objects.filter(deleted_at__isnull=False).exclude(
        body="", body_html="", quote_exact="", quote_prefix="", quote_suffix="", quote_original=""
    ).update(
        body="",
        body_html="",
        quote_exact="",
        quote_prefix="",
        quote_suffix="",
        quote_original="",
        quote_start=None,
        quote_end=None,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("discussions", "0013_discussion_count_and_thread_indexes"),
    ]

    operations = [
        migrations.RunPython(forget_tombstones_words, migrations.RunPython.noop),
    ]
