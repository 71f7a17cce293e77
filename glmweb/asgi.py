"""ASGI entry point: HTTP through Django, websockets through Channels."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glmweb.settings")
# Django must be set up before anything imports models (the websocket routes will).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import CookieMiddleware, SessionMiddleware  # noqa: E402

from chat import routing as chat_routing  # noqa: E402
from glmweb.origins import SameOriginValidator  # noqa: E402
from glmweb.server_send import KeepServerSend  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Scheme, host and port of the page must be this site's (glmweb/origins.py);
        # reply frames skip the middlewares' send wrappers (glmweb/server_send.py).
        "websocket": KeepServerSend(
            SameOriginValidator(
                CookieMiddleware(
                    SessionMiddleware(
                        AuthMiddleware(URLRouter(chat_routing.websocket_urlpatterns))
                    )
                )
            )
        ),
    }
)
