"""The smallest WSGI app, served by bench/decisions.py under the same gunicorn settings as the portal:
what this machine can answer at all, reading the body and answering a decision-sized JSON."""

BODY = b'{"decision":"permit","reason":"power_of_attorney","power_of_attorney":null,"valid_until":null}'


def application(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]
