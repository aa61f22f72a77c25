"""The production smoke: the README's production steps, then the portal driven over HTTP.

Run by ``scripts/production-smoke.sh`` (which makes a fresh virtualenv with ``pip install .``)::

    python -m tests.production.smoke --venv /path/to/fresh/venv

The processes get ``DJANGO_ENV=production`` and only the variables the README names, plus MitID
(``EID_*``) pointed at a throwaway identity provider that this driver plays itself: people log in
with a real signed and encrypted OIOSAML 3 response at level Substantial, as legal acts in
production demand. Email goes to a real SMTP server (aiosmtpd) run here.

Environment: ``SMOKE_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/fuldmagt_smoke``;
the database is dropped and created) and ``SMOKE_REDIS_URL`` (default
``redis://127.0.0.1:6379/4``; flushed). Exits non-zero on the first thing that is not as it should be.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import redis
import requests

from portal.signednote import Signer

from .support import (
    PUBLIC_HOST,
    Browser,
    Portal,
    SmtpSink,
    drop_database,
    free_port,
    json_lines,
    recreate_database,
    wait_for,
)

SP_ENTITY_ID = f"https://{PUBLIC_HOST}/saml"
KAREN = {"cpr": "0102451234", "name": "Karen Jensen", "email": "karen@example.dk"}
OLE = {"cpr": "2308603456", "name": "Ole Hansen", "email": "ole@example.dk"}
DEMO_TOKEN = "fmt_demo-skat-token-not-for-production"  # noqa: S105 - seed_demo's published demo token


def step(text: str) -> None:
    print(f"smoke: {text}", flush=True)


def identity_provider(work: Path):
    """The test IdP (tests/saml_idp.py) with its metadata and the portal's key pair written to files."""
    # tests.saml_idp reads the eID attribute names from portal.eid, which needs Django set up; this
    # process uses the embedded development settings and never touches a database.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    for name in ("DJANGO_ENV", "DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from tests.saml_idp import TestIdentityProvider, key_and_certificate

    sp_key, sp_certificate = key_and_certificate("Fuldmagt smoke SP")
    idp = TestIdentityProvider(sp_certificate=sp_certificate, sp_entity_id=SP_ENTITY_ID, sp_host=PUBLIC_HOST)
    (work / "idp-metadata.xml").write_text(idp.metadata())
    (work / "sp.crt").write_text(sp_certificate)
    (work / "sp.key").write_text(sp_key)
    (work / "sp.key").chmod(0o600)
    return idp, {
        "EID_IDP_METADATA_FILE": str(work / "idp-metadata.xml"),
        "EID_SP_ENTITY_ID": SP_ENTITY_ID,
        "EID_SP_CERTIFICATE_FILE": str(work / "sp.crt"),
        "EID_SP_PRIVATE_KEY_FILE": str(work / "sp.key"),
    }


def production_env(*, database_url: str, redis_url: str, email_url: str, eid_env: dict) -> dict[str, str]:
    """The README's production variables, with a throwaway secret."""
    return {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        # The audit log signs its checkpoints with its own key in production (README, "The audit log").
        "AUDIT_LOG_ORIGIN": "fuldmagt.test/audit-log",
        "AUDIT_LOG_SIGNING_KEY": str(Signer.generate("fuldmagt.test/audit-log")),
        "DJANGO_ALLOWED_HOSTS": PUBLIC_HOST,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": email_url,
        "PORTAL_BASE_URL": f"https://{PUBLIC_HOST}",
        "WEB_CONCURRENCY": "2",
        **eid_env,
    }


def expect(condition: object, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def csrf_page(browser: Browser, url: str) -> str:
    response = browser.get(url)
    expect(response.status_code == 200, f"GET {url}: {response.status_code}")
    return response.text


def mitid_login(browser: Browser, idp, person: dict) -> None:
    """Press "Log in with MitID", let the IdP answer at level Substantial, land logged in."""
    page = csrf_page(browser, "/konto/login/")
    expect('id="eid-login"' in page, "the login page offers no MitID login")
    started = browser.post("/konto/saml/mitid/login/", {"process": "login"}, follow=False)
    expect(started.status_code == 302, f"MitID login did not redirect to the IdP: {started.status_code}")
    request = idp.read_authn_request(started.headers["Location"])
    answer = idp.response(request, cpr=person["cpr"], name=person["name"], loa="Substantial")
    landed = browser.post(
        "/konto/saml/mitid/acs/", {"SAMLResponse": answer, "RelayState": request.relay_state}
    )
    expect(landed.status_code == 200, f"after MitID login: {landed.status_code}")
    expect(person["name"] in landed.text, f"{person['name']} is not logged in")


def static_assets(browser: Browser, page: str) -> None:
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    expect(any(u.endswith(".css") for u in urls) and any(u.endswith(".js") for u in urls), urls)
    for url in urls:
        response = browser.get(url)
        expect(response.status_code == 200, f"{url}: {response.status_code}")
        expect(re.search(r"\.[0-9a-f]{12}\.", url), f"{url} is not a hashed (manifest) name")
        cache = response.headers.get("Cache-Control", "")
        expect("max-age=315360000" in cache and "immutable" in cache, f"{url}: Cache-Control {cache!r}")
    compressed = browser.get(urls[0], headers={"Accept-Encoding": "gzip"}, stream=True)
    expect(compressed.headers.get("Content-Encoding") == "gzip", "static files are not served compressed")


def give_power_of_attorney(browser: Browser, right_id: int) -> str:
    csrf_page(browser, "/fuldmagter/ny/")
    today = datetime.date.today()
    summary = browser.post(
        "/fuldmagter/ny/",
        {
            "attorney_national_id": "230860-3456",
            "attorney_name": OLE["name"],
            "rights": str(right_id),
            "valid_from": today.isoformat(),
            "valid_until": today.replace(year=today.year + 2).isoformat(),
        },
    )
    expect(summary.status_code == 200 and "/fuldmagter/ny/bekraeft/" in summary.url, summary.url)
    created = browser.post("/fuldmagter/ny/bekraeft/", {})
    found = re.search(r"/fuldmagter/([0-9a-f-]{36})/$", created.url)
    expect(created.status_code == 200 and found, f"not created: {created.status_code} {created.url}")
    return found.group(1)


def api_decision(browser: Browser, actor: str) -> dict:
    response = browser.request(
        "POST",
        "/api/v1/decisions",
        json={"actor": actor, "principal": "010245-1234", "right": "skat.read_mail"},
        headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
    )
    expect(response.status_code == 200, f"API decision: {response.status_code} {response.text[:300]}")
    return response.json()


DECISIONS = [
    {"actor": actor, "principal": "010245-1234", "right": right}
    for actor in ("150375-2345", "230860-3456", "120390-4567")
    for right in ("skat.read_mail", "skat.view_tax_assessment", "skat.change_tax_return")
]


def decisions(browser: Browser, at: str) -> list:
    response = browser.request(
        "POST",
        "/api/v1/decisions/batch",
        json={"questions": [{**question, "at": at} for question in DECISIONS]},
        headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
    )
    expect(response.status_code == 200, f"API batch: {response.status_code} {response.text[:300]}")
    return response.json()


def backup_and_restore(portal: Portal, database_url: str, work: Path, browser: Browser) -> None:
    """The README's procedure: a custom-format dump, restored into a new database by a web process."""
    dump = work / "fuldmagt.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", database_url], check=True)
    copy_url = database_url + "_restored"
    recreate_database(copy_url)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={copy_url}", str(dump)], check=True
        )
        portal.manage("migrate", "--check", DATABASE_URL=copy_url)
        restored_audit = portal.manage("verify_audit", DATABASE_URL=copy_url).stdout
        expect("The audit log is intact" in restored_audit, restored_audit)
        with psycopg.connect(copy_url) as connection:
            try:
                connection.execute("UPDATE portal_auditevent SET action = 'edited'")
            except psycopg.Error:
                pass
            else:
                raise AssertionError("the restored audit trail can be changed: its trigger is missing")

        port = free_port()
        portal.start("web", name="web-restored", DATABASE_URL=copy_url, PORT=str(port))
        copy = Browser(f"http://127.0.0.1:{port}")
        wait_for(lambda: _answers(copy), 60, "the web process on the restored copy")
        at = datetime.datetime.now(datetime.UTC).isoformat()
        original = decisions(browser, at)
        expect(any(answer["decision"] == "permit" for answer in original["answers"]), original)
        expect(decisions(copy, at) == original, "the restored copy answers differently")
    finally:
        if "web-restored" in portal.processes:
            portal.kill("web-restored")
        drop_database(copy_url)


def _answers(browser: Browser) -> bool:
    try:
        return browser.get("/readyz").status_code == 200
    except requests.ConnectionError:
        return False


def structured_logs(portal: Portal, request_id: str) -> None:
    """Every process logs JSON lines; gunicorn's access line of a request carries its request id."""
    for name in ("web", "worker", "beat"):
        lines = [line for line in portal.log(name).splitlines() if line.strip()]
        records = list(json_lines(portal.log(name)))
        expect(
            records and len(records) == len(lines),
            f"the {name} log is not all JSON:\n{portal.log(name)[-2000:]}",
        )
    access = [r for r in json_lines(portal.log("web")) if r.get("logger") == "gunicorn.access"]
    expect(
        any(
            r.get("request_id") == request_id and r.get("path") == "/" and r.get("status") == 200
            for r in access
        ),
        f"no access line for request {request_id}",
    )
    tasks = [
        r for r in json_lines(portal.log("worker")) if r.get("task") == "portal.tasks.send_outbound_email"
    ]
    expect(tasks and all(r.get("task_id") for r in tasks), "the worker's task lines carry no task id")


def run(venv: Path, work: Path) -> None:
    database_url = os.environ.get("SMOKE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fuldmagt_smoke")
    redis_url = os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/4")
    recreate_database(database_url)
    redis.Redis.from_url(redis_url).flushdb()
    idp, eid_env = identity_provider(work)
    smtp = SmtpSink().start()
    env = production_env(database_url=database_url, redis_url=redis_url, email_url=smtp.url, eid_env=eid_env)
    portal = Portal(venv=venv, env=env, log_dir=work)
    try:
        step("migrate, collectstatic, check --deploy")
        portal.manage("migrate", "--noinput")
        portal.manage("collectstatic", "--noinput")
        checked = portal.manage("check", "--deploy", "--fail-level", "WARNING")
        expect("System check identified no issues" in checked.stdout, checked.stdout + checked.stderr)
        portal.manage("seed_demo")

        step("start web, worker and beat from the Procfile")
        for kind in ("web", "worker", "beat"):
            portal.start(kind)
        portal.wait_until_serving()
        browser = portal.browser()
        expect(browser.get("/healthz").json() == {"status": "ok"}, "/healthz")
        ready = browser.get("/readyz").json()
        expect(ready == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}, ready)
        plain = browser.get("/", headers={"X-Forwarded-Proto": "http"}, follow=False)
        expect(
            plain.status_code == 301 and plain.headers["Location"].startswith("https://"), "no HTTPS redirect"
        )

        step("front page and static files")
        front = browser.get("/")
        expect(front.status_code == 200 and "Fuldmagt" in front.text, f"front page: {front.status_code}")
        expect("max-age=31536000" in front.headers.get("Strict-Transport-Security", ""), "no HSTS")
        front_request_id = front.headers.get("X-Request-ID")
        expect(front_request_id, "no request id")
        static_assets(browser, front.text)

        step("Karen logs in with MitID and gives Ole a power of attorney")
        with psycopg.connect(database_url) as connection:
            (right_id,) = connection.execute(
                "SELECT id FROM authorities_right WHERE code = 'skat.read_mail'"
            ).fetchone()
        karen = portal.browser()
        mitid_login(karen, idp, KAREN)
        mandate_id = give_power_of_attorney(karen, right_id)
        expect(api_decision(browser, "230860-3456")["decision"] == "deny", "permitted before Ole accepted")

        step("the notices arrive at the SMTP server")
        wait_for(
            lambda: smtp.to(KAREN["email"]) and smtp.to(OLE["email"]), 60, "both emails at the SMTP server"
        )
        for mail in smtp.to(OLE["email"]):
            body = mail.message.get_payload(decode=True).decode()
            expect(f"https://{PUBLIC_HOST}/" in body, f"no link to the portal in {mail.subject!r}")

        step("Ole logs in with MitID and accepts; the API permits")
        ole = portal.browser()
        mitid_login(ole, idp, OLE)
        csrf_page(ole, f"/fuldmagter/{mandate_id}/invitation/")
        accepted = ole.post(f"/fuldmagter/{mandate_id}/accepter/", {})
        expect(
            accepted.status_code == 200 and accepted.url.endswith(f"/fuldmagter/{mandate_id}/"), accepted.url
        )
        decision = api_decision(browser, "230860-3456")
        expect(
            decision["decision"] == "permit" and decision["power_of_attorney"] == mandate_id,
            f"API: {decision}",
        )

        step("Karen makes an access code; a bank checks it on the proof page")
        csrf_page(karen, f"/fuldmagter/{mandate_id}/")
        made = karen.post(f"/fuldmagter/{mandate_id}/adgangskoder/", {"label": "Smoke Bank"})
        code = re.search(r'class="access-code"[^>]*><strong>([^<]+)</strong>', made.text)
        expect(made.status_code == 200 and code, f"no access code: {made.status_code}")
        bank = portal.browser()
        csrf_page(bank, "/bevis/")
        proof = bank.post(
            "/bevis/", {"code": code.group(1), "surname": "Jensen", "organisation": "Smoke Bank"}
        )
        expect(proof.status_code == 200 and OLE["name"] in proof.text, f"proof page: {proof.status_code}")

        step("the worker sent everything; the logs are clean")
        wait_for(
            lambda: (
                not psycopg.connect(database_url)
                .execute("SELECT 1 FROM portal_outboundemail WHERE sent_at IS NULL")
                .fetchone()
            ),
            60,
            "every queued email to be sent",
        )
        time.sleep(1)
        ids = [mail.message_id for mail in smtp.all()]
        expect(len(ids) == len(set(ids)), f"an email was sent twice: {ids}")
        for name in ("web", "worker", "beat"):
            expect(
                "Traceback" not in portal.log(name),
                f"a traceback in the {name} log:\n{portal.log(name)[-3000:]}",
            )
        portal.manage("verify_audit")

        step("backup and restore: pg_dump, pg_restore into a new database, the copy agrees")
        backup_and_restore(portal, database_url, work, browser)
    finally:
        step("stop web, worker and beat")
        portal.stop_all()
        smtp.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--venv", type=Path, required=True, help="the virtualenv `pip install .` went into")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fuldmagt-smoke-") as work:
        try:
            run(args.venv.resolve(), Path(work))
        except AssertionError as error:
            print(f"smoke: FAILED: {error}", file=sys.stderr)
            for log in sorted(Path(work).glob("*.log")):
                print(f"--- {log.name} (last lines) ---", file=sys.stderr)
                print("\n".join(log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
            return 1
    step("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
