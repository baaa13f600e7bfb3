"""A small Flask application, served through the WSGI gateway:

    python -m reactor --wsgi examples.flask_app:app                      # 4 worker threads
    python -m reactor --wsgi examples.flask_app:app --threads 0          # on the loop thread
    python -m reactor --wsgi examples.flask_app:app --static /static=.   # and files under /static/

Flask is not a dependency of the server: ``pip install flask`` (or the ``test`` extra) first.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask, Response, request, stream_with_context

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "hello world\n"


@app.get("/hello/<name>")
def hello(name: str) -> str:
    return f"hello {name}\n"


@app.post("/echo")
def echo() -> dict[str, str]:
    return dict(request.form)


@app.get("/count")
def count() -> Response:
    def numbers() -> Iterator[str]:
        for number in range(int(request.args.get("to", "10"))):
            yield f"{number}\n"

    return Response(stream_with_context(numbers()), mimetype="text/plain")
