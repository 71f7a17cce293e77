"""Message.reasoning_content becomes Message.reasoning (the name the client and the
JSON use); Message.error_detail keeps the platform's own explanation of a failure."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(
            model_name="message",
            old_name="reasoning_content",
            new_name="reasoning",
        ),
        migrations.AddField(
            model_name="message",
            name="error_detail",
            field=models.TextField(blank=True),
        ),
    ]
