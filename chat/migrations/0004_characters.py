"""Role-play characters and personas (issue 10); a conversation may have one of
each, and remembers which greeting opened it."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import chat.characters.models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0003_attachment"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="greeting_index",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="Character",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("name", models.CharField(max_length=80, verbose_name="name")),
                (
                    "avatar",
                    models.FileField(
                        blank=True, upload_to=chat.characters.models.avatar_path
                    ),
                ),
                (
                    "description",
                    models.TextField(blank=True, verbose_name="description"),
                ),
                (
                    "personality",
                    models.TextField(blank=True, verbose_name="personality"),
                ),
                ("scenario", models.TextField(blank=True, verbose_name="scenario")),
                (
                    "user_name",
                    models.CharField(
                        blank=True, max_length=40, verbose_name="your name in the story"
                    ),
                ),
                (
                    "user_info",
                    models.TextField(blank=True, verbose_name="your role in the story"),
                ),
                ("greeting", models.TextField(blank=True, verbose_name="greeting")),
                ("alternate_greetings", models.JSONField(blank=True, default=list)),
                (
                    "example_dialogue",
                    models.TextField(blank=True, verbose_name="example dialogue"),
                ),
                ("tags", models.JSONField(blank=True, default=list)),
                (
                    "default_model",
                    models.CharField(max_length=64, verbose_name="model"),
                ),
                (
                    "visibility",
                    models.CharField(
                        choices=[
                            ("private", "Private (only me)"),
                            ("shared", "Shared with every user here"),
                        ],
                        default="private",
                        max_length=16,
                        verbose_name="visibility",
                    ),
                ),
                (
                    "hidden_by_admin",
                    models.BooleanField(
                        default=False, verbose_name="hidden by an administrator"
                    ),
                ),
                ("card_extra", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="characters",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["name", "created_at"],
            },
        ),
        migrations.AddField(
            model_name="conversation",
            name="character",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="conversations",
                to="chat.character",
            ),
        ),
        migrations.CreateModel(
            name="Persona",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("name", models.CharField(max_length=40, verbose_name="name")),
                (
                    "description",
                    models.TextField(blank=True, verbose_name="description"),
                ),
                (
                    "is_default",
                    models.BooleanField(default=False, verbose_name="default"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="personas",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-is_default", "name"],
            },
        ),
        migrations.AddField(
            model_name="conversation",
            name="persona",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="conversations",
                to="chat.persona",
            ),
        ),
        migrations.AddIndex(
            model_name="character",
            index=models.Index(
                fields=["visibility", "hidden_by_admin"], name="character_shared"
            ),
        ),
        migrations.AddConstraint(
            model_name="persona",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_default", True)),
                fields=("owner",),
                name="persona_one_default_per_owner",
            ),
        ),
    ]
