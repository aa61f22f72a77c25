"""Drills: PostgreSQL or Redis goes away while the web process serves, then comes back.

The outage is a proxy between gunicorn and the server that drops every connection and refuses new
ones (tests/production/support.py: TcpProxy), so the machine's shared servers are never restarted.

PostgreSQL: every request that needs the database gets the plain 503 page (``Retry-After``, no
traceback), ``/readyz`` says so and ``/healthz`` does not; the first request after it works.

Redis: logins and API decisions are refused with 503, not let through without their rate limits
and throttles; a person already logged in keeps reading pages; all comes back with Redis.
"""

from urllib.parse import urlsplit, urlunsplit

from .support import Browser, TcpProxy, json_lines

PASSWORD = "Fuldmagt-demo-2026"  # noqa: S105 - seed_demo's published demo password
DEMO_TOKEN = "fmt_demo-skat-token-not-for-production"  # noqa: S105
QUESTION = {"actor": "150375-2345", "principal": "010245-1234", "right": "skat.read_mail"}


def via(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{proxy.port}"))


def start_web_through(portal, variable: str) -> TcpProxy:
    target = urlsplit(portal.env[variable])
    proxy = TcpProxy(target.hostname, target.port).start()
    portal.start("web", **{variable: via(portal.env[variable], proxy)})
    portal.wait_until_serving()
    return proxy


def log_in(portal, email: str) -> tuple[Browser, int]:
    browser = portal.browser()
    browser.get("/konto/login/")
    response = browser.post("/konto/login/", {"login": email, "password": PASSWORD})
    return browser, response.status_code


def decide(browser: Browser) -> tuple[int, dict]:
    response = browser.request(
        "POST", "/api/v1/decisions", json=QUESTION, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}
    )
    return response.status_code, response.json()


def assert_plain_503(response) -> None:
    assert response.status_code == 503, response.status_code
    assert response.headers["Retry-After"] == "30"
    assert "Midlertidigt utilgængelig" in response.text or "Temporarily unavailable" in response.text
    assert "Traceback" not in response.text and "psycopg" not in response.text


def test_a_database_outage_answers_503_and_the_first_request_after_it_works(production_portal):
    portal = production_portal
    proxy = start_web_through(portal, "DATABASE_URL")
    try:
        karen, status = log_in(portal, "karen@example.dk")
        assert status == 200 and karen.get("/fuldmagter/").status_code == 200

        proxy.cut()
        for _ in range(4):  # whichever web worker answers
            assert_plain_503(karen.get("/fuldmagter/"))
        status, answer = decide(portal.browser())
        assert status == 503 and answer["detail"]
        assert portal.browser().get("/readyz").json()["checks"]["database"] == "unavailable"
        assert portal.browser().get("/healthz").status_code == 200

        proxy.restore()
        first = karen.get("/fuldmagter/")
        assert first.status_code == 200 and "Karen Jensen" in first.text  # still logged in
        assert decide(portal.browser())[1]["decision"] == "permit"
        # The error went to the log, as JSON with the request id, not to the page.
        errors = [r for r in json_lines(portal.log("web")) if r["level"] == "ERROR" and r.get("request_id")]
        assert any("OperationalError" in r.get("exception", "") for r in errors)
    finally:
        proxy.stop()


def test_decisions_work_at_once_when_the_database_dropped_every_connection_between_requests(
    production_portal,
):
    # As after a restart or failover while the web workers sat idle: each worker's connection is
    # dead, and the first decision on it must not fail (its first read is asked again on a new one).
    portal = production_portal
    proxy = start_web_through(portal, "DATABASE_URL")
    try:
        for _ in range(4):  # every web worker has a connection
            assert decide(portal.browser())[1]["decision"] == "permit"
        proxy.cut()
        proxy.restore()
        for _ in range(6):
            status, answer = decide(portal.browser())
            assert (status, answer["decision"]) == (200, "permit")
    finally:
        proxy.stop()


def test_without_redis_logins_and_decisions_are_refused_and_come_back(production_portal):
    portal = production_portal
    proxy = start_web_through(portal, "REDIS_URL")
    try:
        karen, status = log_in(portal, "karen@example.dk")
        assert status == 200
        assert decide(portal.browser())[0] == 200

        proxy.cut()
        _, status = log_in(portal, "peter@example.dk")
        assert status == 503
        status, answer = decide(portal.browser())
        assert status == 503 and answer["detail"]
        assert portal.browser().get("/readyz").json()["checks"]["redis"] == "unavailable"
        # Someone already logged in keeps reading: sessions live in PostgreSQL.
        assert karen.get("/fuldmagter/").status_code == 200

        proxy.restore()
        _, status = log_in(portal, "peter@example.dk")
        assert status == 200
        assert decide(portal.browser())[1]["decision"] == "permit"
        assert portal.browser().get("/readyz").status_code == 200
    finally:
        proxy.stop()
