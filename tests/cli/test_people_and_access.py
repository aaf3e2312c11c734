"""`ips people`, `ips users`, `ips tokens` and an employer contact of a
specialist's own: what needs the database and no journey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.cli.conftest import TZ, Ips


def add_team(ips: Ips) -> None:
    """sup-1 leads es-1; sup-2 leads es-2; c-1 is es-1's consumer, c-2 es-2's."""
    for sup in ("sup-1", "sup-2"):
        ips.ok("people", "add", "supervisor", "--id", sup, "--name", f"Supervisor {sup}",
               "--email", f"{sup}@example.org", "--timezone", TZ)  # fmt: skip
    for es, sup in (("es-1", "sup-1"), ("es-2", "sup-2")):
        ips.ok("people", "add", "specialist", "--id", es, "--name", f"Specialist {es}",
               "--email", f"{es}@example.org", "--timezone", TZ, "--supervisor", sup)  # fmt: skip
    for consumer, es in (("c-1", "es-1"), ("c-2", "es-2")):
        ips.ok("people", "add", "consumer", "--id", consumer, "--name", f"Consumer {consumer}",
               "--specialist", es, "--timezone", TZ)  # fmt: skip


def test_people_are_added_changed_and_listed(ips: Ips) -> None:
    add_team(ips)
    added = ips.json(
        "people", "add", "consumer", "--id", "c-3", "--name", "Alex Smith",
        "--specialist", "es-1", "--timezone", TZ, "--phone", "+15555550123",
        "--language", "es", "--team-member-id", "cm-1", "--team-member-name", "Casey Wu",
        "--team-member-role", "case_manager",
    )  # fmt: skip
    assert added == {
        "id": "c-3",
        "name": "Alex Smith",
        "specialist": "es-1",
        "timezone": TZ,
        "phone": "+15555550123",
        "email": None,
        "sms_consent": "none",
        "language": "es",
        "treatment_team_member": {
            "id": "cm-1",
            "name": "Casey Wu",
            "role": "case_manager",
            "email": None,
            "phone": None,
        },
    }
    # One detail of the team member changes; the others stay.
    changed = ips.json(
        "people", "update", "consumer", "c-3",
        "--team-member-email", "casey@example.org", "--phone", "",
    )  # fmt: skip
    assert changed == {
        **added,
        "phone": None,
        "treatment_team_member": {**added["treatment_team_member"], "email": "casey@example.org"},
    }
    assert ips.store.get_consumer("c-3").treatment_team_member.email == "casey@example.org"  # type: ignore[union-attr]

    specialist = ips.json("people", "update", "specialist", "es-1", "--channels", "sms,email",
                          "--phone", "+15555550101", "--fte", "0.5")  # fmt: skip
    assert (specialist["channels"], specialist["fte"]) == (["sms", "email"], 0.5)

    listed = ips.json("people", "list")
    assert list(listed) == ["supervisors", "specialists", "consumers"]
    assert [c["id"] for c in listed["consumers"]] == ["c-1", "c-2", "c-3"]
    table = ips.ok("people", "list", "specialist")
    assert table.splitlines()[0] == "Specialists"
    assert table.splitlines()[1].split() == [
        "id", "name", "supervisor", "email", "phone", "reminders", "by", "FTE", "time", "zone",
    ]  # fmt: skip
    assert table.splitlines()[3].split() == [
        "es-1", "Specialist", "es-1", "sup-1", "es-1@example.org", "+15555550101",
        "sms,", "email", "0.5", TZ,
    ]  # fmt: skip


def test_bad_details_name_the_option(ips: Ips) -> None:
    add_team(ips)
    consumer = ["people", "add", "consumer", "--id", "c-9", "--name", "Alex Smith",
                "--specialist", "es-1", "--timezone", TZ]  # fmt: skip
    assert ips.refused(*consumer, "--phone", "5555") == (
        "Error: --phone: '5555' is not a phone number in E.164 form, like +15555550123\n"
    )
    assert ips.refused(*consumer[:-2], "--timezone", "Mars/Base") == (
        "Error: --timezone: 'Mars/Base' is not an IANA time zone name "
        "(for example America/New_York)\n"
    )
    assert ips.refused(*consumer, "--team-member-id", "cm-1", "--team-member-name", "Casey",
                       "--team-member-role", "case_manager",
                       "--team-member-email", "casey") == (
        "Error: --team-member-email: 'casey' is not an email address\n"
    )  # fmt: skip
    assert ips.refused(*consumer, "--fte", "1") == "Error: --fte: is not a known field\n"
    assert ips.refused(*consumer[:7], "--specialist", "es-9", "--timezone", TZ) == (
        "Error: --specialist: no specialist 'es-9'\n"
    )
    assert ips.refused("people", "add", "consumer", "--id", "c-1", "--name", "Again",
                       "--specialist", "es-1", "--timezone", TZ) == (
        "Error: --id: consumer 'c-1' already exists\n"
    )  # fmt: skip
    assert ips.refused("people", "update", "consumer", "c-1", "--specialist", "es-2") == (
        "Error: --specialist: use reassignment to change the specialist\n"
    )
    assert ips.refused("people", "update", "supervisor", "sup-9", "--name", "X") == (
        "Error: no supervisor 'sup-9'\n"
    )
    assert ips.store.get_consumer("c-9") is None


def test_a_supervisor_manages_their_own_team(ips: Ips) -> None:
    add_team(ips)
    ips.ok("users", "add", "sup1", "--name", "Pat Kim", "--role", "supervisor",
           "--person", "sup-1")  # fmt: skip
    token = ips.token("sup1")

    # A specialist a supervisor adds joins their own team.
    added = ips.json("people", "add", "specialist", "--id", "es-3", "--name", "Sam Ortiz",
                     "--email", "sam@example.org", "--timezone", TZ, token=token)  # fmt: skip
    assert added["supervisor"] == "sup-1"
    listed = ips.json("people", "list", token=token)
    assert [s["id"] for s in listed["supervisors"]] == ["sup-1"]
    assert [s["id"] for s in listed["specialists"]] == ["es-1", "es-3"]
    assert [c["id"] for c in listed["consumers"]] == ["c-1"]

    user = ips.json("users", "add", "sam", "--name", "Sam Ortiz", "--role", "specialist",
                    "--person", "es-3", token=token)  # fmt: skip
    assert (user["id"], user["role"], user["person_id"]) == ("sam", "specialist", "es-3")
    assert ips.refused("users", "add", "lee", "--name", "Lee", "--role", "specialist",
                       "--person", "es-2", token=token) == (
        "Error: --person: no specialist 'es-2'\n"
    )  # fmt: skip
    assert ips.refused("users", "add", "boss", "--name", "Boss", "--role", "admin",
                       token=token) == (
        "Error: --role: a supervisor adds users for the specialists of their team\n"
    )  # fmt: skip
    assert [u["id"] for u in ips.json("users", "list", token=token)] == ["sam", "sup1"]
    assert ips.refused("people", "update", "consumer", "c-2", "--name", "X", token=token) == (
        "Error: no consumer 'c-2'\n"
    )


def test_a_token_is_shown_once_works_until_revoked(ips: Ips) -> None:
    add_team(ips)
    ips.ok("users", "add", "pat", "--name", "Pat Kim", "--role", "supervisor",
           "--person", "sup-1")  # fmt: skip
    before = datetime.now(UTC)
    created = ips.json("tokens", "create", "pat", "--days", "30", "--label", "office")
    assert list(created) == ["id", "token", "user_id", "label", "created_at", "expires_at"]
    token, token_id = created["token"], created["id"]
    expires = datetime.fromisoformat(created["expires_at"])
    assert before + timedelta(days=30) <= expires <= datetime.now(UTC) + timedelta(days=30)

    listed = ips.ok("tokens", "list", "pat")
    assert token_id in listed and token not in listed
    assert listed.splitlines()[2].split()[-1] == "works"
    assert [t["id"] for t in ips.json("tokens", "list")] == [token_id]
    assert token not in ips.ok("tokens", "list", "--json")
    assert ips.json("people", "list", "consumer", token=token)["consumers"][0]["id"] == "c-1"

    assert ips.ok("tokens", "revoke", token_id) == f"Token {token_id} is revoked.\n"
    assert ips.refused("people", "list", token=token) == (
        "Error: the token is not valid (the token comes from --token or IPS_TOKEN)\n"
    )
    assert ips.json("tokens", "list", "pat")[0]["revoked_at"] is not None
    assert ips.refused("due", token="ips_not-a-token").startswith("Error: the token is not valid")
    assert ips.refused("tokens", "create", "pat", "--days", "0") == (
        "Error: --days: a token lasts from 1 to 3660 days\n"
    )
    assert ips.refused("tokens", "create", "nobody") == "Error: no user 'nobody'\n"
    assert ips.refused("tokens", "revoke", "tok_nothing") == "Error: no token 'tok_nothing'\n"


def test_a_token_read_from_the_environment(ips: Ips) -> None:
    add_team(ips)
    ips.ok("users", "add", "jordan", "--name", "Jordan Lee", "--role", "specialist",
           "--person", "es-1")  # fmt: skip
    token = ips.token("jordan")
    # `Ips` passes the token as IPS_TOKEN, as `export IPS_TOKEN=...` does.
    listed = ips.json("people", "list", "consumer", token=token)
    assert [c["id"] for c in listed["consumers"]] == ["c-1"]
    # An empty IPS_TOKEN is no token: the operator of the server, who sees everyone.
    listed = ips.json("people", "list", "consumer", token="")
    assert [c["id"] for c in listed["consumers"]] == ["c-1", "c-2"]


def test_an_employer_contact_about_no_consumer_goes_to_the_specialists_log(ips: Ips) -> None:
    add_team(ips)
    recorded = ips.json("event", "employer_contact", "-f", "specialist=es-1",
                        "-f", "employer=Acme Foods", "-f", "face_to_face=true",
                        "--event-id", "ec-1")  # fmt: skip
    assert {k: recorded[k] for k in ("event_id", "specialist", "employer", "face_to_face")} == {
        "event_id": "ec-1",
        "specialist": "es-1",
        "employer": "Acme Foods",
        "face_to_face": True,
    }
    assert recorded["consumer"] is None
    [contact] = ips.store.list_employer_contacts("es-1")
    assert (contact.event_id, contact.employer, contact.consumer_id) == ("ec-1", "Acme Foods", None)
    assert [(e.event_id, e.consumer_id) for e in ips.store.list_events()] == [("ec-1", None)]

    assert ips.refused("event", "employer_contact", "-f", "employer=Acme") == (
        "Error: --field specialist: names the specialist who made the contact\n"
    )
    assert ips.refused("event", "first_meeting") == (
        "Error: CONSUMER: name the consumer and then the type: ips event CONSUMER TYPE\n"
    )
