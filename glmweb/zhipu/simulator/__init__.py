"""A local stand-in for the ZhipuAI open platform, speaking its HTTP protocol.

It runs as its own process (`manage.py runsimulator`) and is never imported by app
code: the app reaches it only over HTTP, exactly as it reaches the real platform.
docs/simulator.md describes the endpoints, the replies and the `[[sim:...]]` directives.

Modules: app (ASGI routing), http (request and response plumbing), auth, errors,
catalog (models), directives, replies (deterministic text), chat, streaming (SSE),
vision, websearch, jobs (async-result), video, assistant, requestlog, server (uvicorn).
"""
