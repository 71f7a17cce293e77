"""Role-play characters and the user's personas (issue 10; docs/characters.md).

- models.py: Character and Persona (imported into chat.models, so they are chat's).
- access.py: who may see, chat with or edit a character: the one rule.
- prompting.py: the `meta` (CharGLM/Emohaa) or the compiled system prompt a reply
  sends for a conversation with a character.
- cards.py: Character Card V2/V3 import (JSON and PNG) and V2 export.
- services.py: create, change, duplicate, delete, import, start a chat, greetings.
- forms.py, views.py, urls.py (namespace `characters:`), admin.py: the edges.
"""
