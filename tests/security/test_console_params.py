"""Finding 8 of issue 8 (the console's part): `?to=9999-12-31` on the list and the export gave a
500. Every parameter error must be a 400 with a message, never a 500: checked one by one, then by
fuzzing the query (and form) parameters of every route."""

from __future__ import annotations

import re
import string
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.db as db
from bot.db.models import StaffUser
from console import cli
from console.app import create_app
from tests.console.conftest import _fast_password_hashing, admin, app, make_user, seeded, staff  # noqa: F401
from tests.console.helpers import SECRET, UTC, csrf, sign_in

LIST_ROUTES = ("/conversations", "/export.csv", "/export.json")


def _message(resp) -> str:  # type: ignore[no-untyped-def]
    m = re.search(r'<p class="error" role="alert">([^<]+)</p>', resp.text)
    return m.group(1) if m else ""


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2026-13-01", "2026-02-30", "yesterday", "20261201"])
@pytest.mark.parametrize("name", ["to", "from"])
def test_out_of_range_or_malformed_dates_are_400_with_a_message(staff, seeded, name, value) -> None:  # noqa: F811
    for path in LIST_ROUTES:
        resp = staff.get(path, query_string={name: value})
        assert resp.status_code == 400, (path, name, value, resp.status_code)
        assert _message(resp).startswith(f"{name}: a date"), _message(resp)


def test_from_after_to_is_400(staff, seeded) -> None:  # noqa: F811
    resp = staff.get("/conversations", query_string={"from": "2026-05-02", "to": "2026-05-01"})
    assert resp.status_code == 400 and _message(resp) == "from: must not be after to"


@pytest.mark.parametrize(
    "path, args, message",
    [
        ("/conversations", {"page": "abc"}, "page: a whole number"),
        ("/conversations", {"page": "0"}, "page: a whole number"),
        ("/conversations", {"page": "99999999999999999999"}, "page: a whole number"),
        ("/conversations", {"level": "critical"}, "level: one of"),
        ("/conversations", {"reviewed": "maybe"}, "reviewed: one of"),
        ("/conversations", {"q": "x" * 201}, "q: at most 200"),
        ("/conversations", {"q": "zoloft\x00"}, "control characters"),
        ("/conversations", {"channel": "rest\x1b[31m"}, "control characters"),
        ("/export.csv", {"level": "critical"}, "level: one of"),
        ("/appointments", {"status": "deleted"}, "status: one of"),
        ("/appointments", {"page": "-1"}, "page: a whole number"),
        ("/admin/audit", {"actor": "\x00"}, "control characters"),
        ("/admin/audit", {"action": "a" * 65}, "action: at most 64"),
    ],
)
def test_bad_parameters_are_400_with_a_message(admin, seeded, path, args, message) -> None:  # noqa: F811
    resp = admin.get(path, query_string=args)
    assert resp.status_code == 400, (path, args, resp.status_code)
    assert message in _message(resp)


def test_ids_beyond_the_database_range_are_not_found(admin, seeded) -> None:  # noqa: F811
    token = csrf(admin)
    huge = "99999999999999999999"
    assert admin.post(f"/appointments/{huge}/status", data={"csrf_token": token, "status": "booked"}).status_code == 404
    assert admin.post(f"/admin/users/{huge}", data={"csrf_token": token, "action": "enable"}).status_code == 404
    for ref in ("%00", "zz" * 10, "a" * 33):
        assert admin.get(f"/conversations/{ref}").status_code == 404


def test_sign_in_with_control_characters_is_400(app, make_user) -> None:  # noqa: F811
    make_user("kim")
    client = app.test_client()
    assert sign_in(client, "kim\x00").status_code == 400


def test_command_line_export_refuses_bad_dates(db_url, db_connection, seeded, tmp_path) -> None:  # noqa: F811
    with pytest.raises(SystemExit, match="to: a date between"):
        cli.main(["--database-url", db_url, "export", "--to", "9999-12-31", "-o", str(tmp_path / "x.csv")])


# --- fuzzing --------------------------------------------------------------------------------------

PARAM_NAMES = ["from", "to", "page", "q", "level", "channel", "rule", "reviewed", "status", "action", "actor", "msg"]
FILTERS = ["from", "to", "q", "level", "channel", "rule", "reviewed"]
# what each page reads (the random half of the fuzzing tries every name on every page)
ROUTE_PARAMS = {
    "/conversations": [*FILTERS, "page", "msg"],
    "/export.csv": FILTERS,
    "/export.json": FILTERS,
    "/appointments": ["status", "page", "msg"],
    "/admin/audit": ["action", "actor", "page"],
}
NASTY = [
    "",
    " ",
    "9999-12-31",
    "9999-01-01",
    "0001-01-01",
    "2026-13-45",
    "+02026-01-01",
    "2026-02-29",
    "1970-01-01",
    "-1",
    "0",
    "1e9",
    "99999999999999999999",
    "\x00",
    "\r\n",
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "{{7*7}}",
    "<script>",
    "emergency",
    "yes",
    "all",
    "x" * 5000,
    "\u202e\ufeff",
    "😀" * 50,
]
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.sampled_from(NASTY),  # twice: half of the values are known troublemakers
    st.builds("{}\x00{}".format, st.text(max_size=5), st.text(max_size=5)),
    st.dates().map(date.isoformat),  # any real date, the edges of the calendar included
    st.integers().map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.text(alphabet=string.printable, max_size=40),
)
# every known parameter present or not, each with a value of VALUES, plus a few unknown ones
QUERY = st.builds(
    lambda known, extra: {**extra, **known},
    st.fixed_dictionaries({}, optional={name: VALUES for name in PARAM_NAMES}),
    st.dictionaries(st.text(max_size=20), VALUES, max_size=2),
)
FORM_NAMES = ["reviewed", "text", "status", "back_status", "action", "role", "username", "password"]
FORM = st.fixed_dictionaries({}, optional={name: VALUES for name in FORM_NAMES})
FUZZ = settings(
    max_examples=40,  # per route
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ALLOWED = {200, 302, 400, 404}


@pytest.fixture
def fuzz_admin(db_url, db_connection, make_user, seeded, monkeypatch):  # type: ignore[no-untyped-def]  # noqa: F811
    """An admin on an app whose per-user rate limit does not interfere with many fast requests."""
    monkeypatch.setenv("CONSOLE_RATELIMIT_USER", "100000/minute")
    application = create_app(database_url=db_url, secret_key=SECRET, cookie_secure=True, timezone_=UTC)
    make_user("ada.admin", "admin")
    make_user("sam.staff", "staff")
    client = application.test_client()
    assert sign_in(client, "ada.admin").status_code == 302
    with db.session_scope(db_url, write=False) as s:
        staff_id = s.execute(sa.select(StaffUser.id).where(StaffUser.username == "sam.staff")).scalar_one()
    fill = {"ref": seeded["refs"]["B"], "appointment_id": str(seeded["appointment"]), "user_id": str(staff_id)}
    routes = []
    for rule in application.url_map.iter_rules():
        if rule.endpoint in ("static", "auth.logout"):  # signing out would end the fuzzing session
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = re.sub(rf"<(?:\w+:)?{arg}>", fill[arg], path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return client, routes


def _check(resp, what) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code in ALLOWED, (what, resp.status_code)
    if resp.status_code == 400:
        assert _message(resp), what  # a 400 always says what was wrong


def _fuzz_get(client, path: str) -> None:  # type: ignore[no-untyped-def]
    @FUZZ
    @given(query=QUERY)
    def run(query: dict) -> None:
        _check(client.get(path, query_string=query), (path, query))

    run()


def _fuzz_post(client, path: str, token: str) -> None:  # type: ignore[no-untyped-def]
    @FUZZ
    @given(form=FORM, query=QUERY)
    def run(form: dict, query: dict) -> None:
        _check(client.post(path, data={**form, "csrf_token": token}, query_string=query), (path, form, query))

    run()


def test_fuzz_query_parameters_of_every_route(fuzz_admin) -> None:
    client, routes = fuzz_admin
    gets = [path for method, path in routes if method == "GET"]
    assert len(gets) >= 9  # the enumeration really covers the app

    for path in gets:
        _fuzz_get(client, path)
    assert client.get("/conversations").status_code == 200  # still signed in, nothing broke


def test_every_known_troublemaker_in_every_parameter_of_every_route(fuzz_admin) -> None:
    """The systematic half of the fuzzing: each value of NASTY in each parameter of each page."""
    client, routes = fuzz_admin
    gets = [path for method, path in routes if method == "GET"]
    for path in gets:
        for name in ROUTE_PARAMS.get(path, ["msg"]):
            for value in NASTY:
                _check(client.get(path, query_string={name: value}), (path, name, value))


def test_fuzz_form_fields_of_every_post_route(fuzz_admin) -> None:
    client, routes = fuzz_admin
    posts = [path for method, path in routes if method == "POST" and path != "/login"]
    assert len(posts) >= 5
    token = csrf(client)

    for path in posts:
        _fuzz_post(client, path, token)
    assert client.get("/conversations").status_code == 200
