from django.db import migrations


class Migration(migrations.Migration):
    """One account per email address (case-insensitive): password resets and
    notifications must reach exactly one reader. Blank emails are left alone."""

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("groups", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql="CREATE UNIQUE INDEX one_account_per_email "
            "ON auth_user (lower(email)) WHERE email <> ''",
            reverse_sql="DROP INDEX IF EXISTS one_account_per_email",
        ),
    ]
