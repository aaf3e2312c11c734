"""`ips feed export`: a feed written to stdout or a file, and bad input refused
naming the option."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar

from store import AppointmentRecord
from tests.cli.conftest import TZ, Ips


def add_team(ips: Ips) -> None:
    """sup-1 leads es-1, whose consumer is c-1 (Alex Smith); sup-2 leads es-2."""
    for sup, name in (("sup-1", "Pat Kim"), ("sup-2", "Robin Diaz")):
        ips.ok("people", "add", "supervisor", "--id", sup, "--name", name,
               "--email", f"{sup}@example.org", "--timezone", TZ)  # fmt: skip
    for es, name, sup in (("es-1", "Jordan Lee", "sup-1"), ("es-2", "Morgan Ito", "sup-2")):
        ips.ok("people", "add", "specialist", "--id", es, "--name", name,
               "--email", f"{es}@example.org", "--timezone", TZ, "--supervisor", sup)  # fmt: skip
    ips.ok("people", "add", "consumer", "--id", "c-1", "--name", "Alex Smith",
           "--specialist", "es-1", "--timezone", TZ)  # fmt: skip


def test_a_specialists_feed_goes_to_stdout_and_a_teams_to_a_file(ips: Ips, tmp_path: Path) -> None:
    add_team(ips)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    ips.store.upsert_appointment(AppointmentRecord("c-1", "a-1", start, 45, "Main St Library"))

    printed = ips.ok("feed", "export", "--specialist", "es-1")
    out = tmp_path / "team.ics"
    ips.ok("feed", "export", "--team", "sup-1", "--out", str(out))

    mine = icalendar.Calendar.from_ical(printed)
    assert str(mine["x-wr-calname"]) == "Due contacts — Jordan Lee"
    [meeting] = mine.walk("VEVENT")
    assert str(meeting["summary"]) == "Meeting — A.S. (c-1)"
    assert meeting.decoded("dtstart") == start
    ours = out.read_bytes()
    assert b"\r\nX-WR-CALNAME:Due contacts \xe2\x80\x94 team of Pat Kim\r\n" in ours
    assert [str(e["uid"]) for e in icalendar.Calendar.from_ical(ours).walk("VEVENT")] == [
        str(meeting["uid"])
    ]


def test_bad_input_is_refused_naming_the_option(ips: Ips, tmp_path: Path) -> None:
    add_team(ips)

    assert "--specialist: give --specialist ID or --team" in ips.refused("feed", "export")
    both = ips.refused("feed", "export", "--specialist", "es-1", "--team", "sup-1")
    assert "--team: give --specialist or --team, not both" in both
    assert "--specialist: no specialist with id 'es-9'" in ips.refused(
        "feed", "export", "--specialist", "es-9"
    )
    assert "--team: no supervisor with id 'es-1'" in ips.refused("feed", "export", "--team", "es-1")
    missing = tmp_path / "no" / "such" / "folder" / "team.ics"
    assert "--out: cannot write" in ips.refused(
        "feed", "export", "--team", "sup-1", "--out", str(missing)
    )


def test_a_specialists_token_exports_their_own_feed_only(ips: Ips) -> None:
    add_team(ips)
    ips.ok("users", "add", "u-es-1", "--name", "Jordan Lee", "--role", "specialist",
           "--person", "es-1")  # fmt: skip
    token = ips.token("u-es-1")

    assert "Jordan Lee" in ips.ok("feed", "export", "--specialist", "es-1", token=token)
    assert "--specialist: no specialist with id 'es-2'" in ips.refused(
        "feed", "export", "--specialist", "es-2", token=token
    )
    assert "--team: no supervisor with id 'sup-1'" in ips.refused(
        "feed", "export", "--team", "sup-1", token=token
    )
