"""The supervisor's HTML report: one self-contained page, read as a parser and as
headless Chromium read it.

The reports are built by hand: four weeks of March 2027 for a team of three
specialists (one of them named `<es&1>`, to see it escaped), nobody making an
employer contact in 2027-W11, four quarters of employment rate, and a
follow-along rule with no due contacts in the period.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports.html import render_html, report_weeks
from reports.model import FidelityFigure, FidelityReport, Ips25Item, OutcomesReport

CHROMIUM = Path("/usr/bin/chromium")

SPECIALISTS = ["es-1", "es-2", "<es&1>"]
WEEKS = ["2027-W09", "2027-W10", "2027-W11", "2027-W12"]
# 2027-W11 is missing: nobody made a face-to-face employer contact that week.
CONTACTS = {
    "es-1": {"2027-W09": 7, "2027-W10": 6, "2027-W12": 8},
    "es-2": {"2027-W09": 3, "2027-W10": 5, "2027-W12": 4},
    "<es&1>": {"2027-W09": 6, "2027-W12": 2},
}
CONSUMERS = ["c-101", "c-102", "c-103", "c-104"]

CASELOAD = Ips25Item("Staffing", 1, "Caseload size")
RAPID_SEARCH = Ips25Item("Services", 3, "Rapid search for competitive job")
EMPLOYER_CONTACT = Ips25Item("Services", 6, "Job development: frequent employer contact")
COMPETITIVE = Ips25Item("Services", 10, "Competitive jobs")
TIME_UNLIMITED = Ips25Item("Services", 12, "Time-unlimited follow-along supports")
OUTREACH = Ips25Item("Services", 14, "Assertive engagement and outreach by integrated team")


def _figure(
    key: str,
    title: str,
    item: Ips25Item,
    numerator: float,
    numerator_counts: str,
    denominator: float,
    denominator_counts: str,
    unit: str,
    target: float | None = None,
    higher_is_better: bool = True,
    breakdown: dict[str, FidelityFigure] | None = None,
) -> FidelityFigure:
    value = numerator / denominator if denominator else None
    meets = None
    if target is not None and value is not None:
        meets = value >= target if higher_is_better else value <= target
    return FidelityFigure(
        key=key,
        title=title,
        ips25=item,
        numerator=numerator,
        numerator_counts=numerator_counts,
        denominator=denominator,
        denominator_counts=denominator_counts,
        value=value,
        unit=unit,
        target=target,
        meets=meets,
        breakdown=breakdown or {},
    )


def _on_time(rule: str, met: int, due: int) -> FidelityFigure:
    return _figure(
        rule,
        f"Follow-along contacts met on time: {rule}",
        TIME_UNLIMITED,
        met,
        "due contacts met within their window",
        due,
        "due contacts",
        "share",
        target=0.9,
    )


def _contacts(es: str) -> FidelityFigure:
    return _figure(
        "employer_contacts_per_week",
        "Face-to-face employer contacts per specialist per week",
        EMPLOYER_CONTACT,
        sum(CONTACTS[es].values()),
        "face-to-face employer contacts",
        len(WEEKS),
        "specialist-weeks",
        "per week",
        target=6,
    )


ON_TIME = {
    "follow_along_monthly": _on_time("follow_along_monthly", 11, 12),
    "follow_along_first_week": _on_time("follow_along_first_week", 3, 5),
    "job_loss_within_3_days": _on_time("job_loss_within_3_days", 0, 0),
}

FIGURES = [
    _figure(
        "caseload_per_fte",
        "Caseload per full-time specialist",
        CASELOAD,
        52,
        "consumers on the active caseload",
        2.5,
        "specialist FTE",
        "per FTE",
        target=20,
        higher_is_better=False,
    ),
    _figure(
        "employer_contacts_per_week",
        "Face-to-face employer contacts per specialist per week",
        EMPLOYER_CONTACT,
        41,
        "face-to-face employer contacts",
        12,
        "specialist-weeks",
        "per week",
        target=6,
        breakdown={es: _contacts(es) for es in SPECIALISTS},
    ),
    _figure(
        "first_employer_contact_30_days",
        "New entrants with a face-to-face employer contact within 30 days",
        RAPID_SEARCH,
        4,
        "new entrants with an employer contact within 30 days",
        7,
        "new entrants",
        "share",
    ),
    _figure(
        "competitive_jobs",
        "Jobs that are competitive",
        COMPETITIVE,
        9,
        "competitive jobs",
        9,
        "jobs held",
        "share",
        target=1.0,
    ),
    _figure(
        "outreach_team_members",
        "Team members making outreach attempts per disengaged consumer",
        OUTREACH,
        0,
        "team members making outreach attempts",
        0,
        "disengaged consumers",
        "per consumer",
    ),
]

FIDELITY = FidelityReport(
    start=date(2027, 3, 1),
    end=date(2027, 3, 28),
    scope="team of <sup&1>",
    figures=FIGURES,
    # As the fidelity report holds them: by ISO week, then specialist.
    employer_contacts_by_week={
        week: {es: n for es, weeks in CONTACTS.items() for w, n in weeks.items() if w == week}
        for week in sorted({w for weeks in CONTACTS.values() for w in weeks})
    },
    on_time_by_rule=ON_TIME,
)

QUARTERS = [("2026Q2", 11, 30), ("2026Q3", 13, 31), ("2026Q4", 15, 30), ("2027Q1", 17, 32)]
OUTCOMES = [
    OutcomesReport(
        quarter=q,
        start=date(int(q[:4]), 3 * int(q[-1]) - 2, 1),
        end=date(int(q[:4]), 3 * int(q[-1]), 28),
        employed=employed,
        active=active,
        rate=employed / active,
        employed_consumers=CONSUMERS[:2],
        active_consumers=CONSUMERS,
    )
    for q, employed, active in QUARTERS
]

MADE = datetime(2027, 4, 2, 9, 30, tzinfo=UTC)


@dataclass
class Bar:
    chart: str
    value: str
    label: str


@dataclass
class Page(HTMLParser):
    """What a test looks for: every tag, the bars of each chart, the text of each row."""

    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    rows: dict[str, str] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)
    _svg: list[str] = field(default_factory=list)
    _row: str | None = None

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "svg":
            self._svg.append(a.get("id") or "")
        if tag == "rect" and "bar" in (a.get("class") or "").split() and self._svg:
            self.bars.append(Bar(self._svg[-1], a["data-value"] or "", a["data-label"] or ""))
        if tag == "tr" and (row := a.get("id")):
            self._row = row
            self.rows[row] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg" and self._svg:
            self._svg.pop()
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._row is not None:
            self.rows[self._row] += data + " "

    def chart(self, chart_id: str) -> list[Bar]:
        return [b for b in self.bars if b.chart == chart_id]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(FIDELITY, OUTCOMES, agency="Riverside <Mental> Health", generated_at=MADE)


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return parse(html)


def test_the_header_says_the_period_the_scope_and_when_it_was_made(page: Page) -> None:
    text = " ".join(page.text)
    assert "1 March 2027 to 28 March 2027" in text
    assert "team of <sup&1>" in text
    assert "2 April 2027, 09:30 UTC" in text
    assert "Riverside <Mental> Health" in text
    assert "2026Q2 to 2027Q1" in text


def test_nothing_is_fetched_from_anywhere(html: str, page: Page) -> None:
    for tag, attrs in page.tags:
        for name in ("src", "href", "srcset", "xlink:href", "action", "data"):
            assert attrs.get(name) is None, (tag, name, attrs[name])
        assert tag not in ("script", "link", "img", "iframe", "object", "embed"), tag
    assert "://" not in html
    assert "@import" not in html
    assert "url(" not in html
    csp = [a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and (csp[0] or "").startswith("default-src 'none'")


def test_every_figure_shows_its_ips25_item_numerator_and_denominator(page: Page) -> None:
    for figure in FIGURES:
        row = page.rows[f"figure-{figure.key}"]
        assert figure.ips25.label in row
        assert figure.title in row
        assert f"{figure.numerator:g} {figure.numerator_counts}" in row
        assert f"{figure.denominator:g} {figure.denominator_counts}" in row

    caseload = page.rows["figure-caseload_per_fte"]
    assert re.search(
        r"2\.5 specialist FTE .*20\.8 per FTE .*20 per FTE .*below the target", caseload
    )
    assert "3.4 per week" in page.rows["figure-employer_contacts_per_week"]
    assert "meets the target" not in page.rows["figure-first_employer_contact_30_days"]
    assert "57%" in page.rows["figure-first_employer_contact_30_days"]
    assert "no target" in page.rows["figure-first_employer_contact_30_days"]
    assert "100% 100% meets the target" in page.rows["figure-competitive_jobs"]
    assert "not measured: no disengaged consumers" in page.rows["figure-outreach_team_members"]


def test_consumers_never_appear(html: str) -> None:
    for consumer in CONSUMERS:
        assert consumer not in html


def test_text_is_escaped(html: str, page: Page) -> None:
    assert "&lt;es&amp;1&gt;" in html
    assert "<es&1>" not in html
    assert "<sup&1>" not in html
    assert "<Mental>" not in html
    assert "<es&1>" in page.text  # read back as the name it is


def test_employment_rate_chart_has_a_bar_per_quarter_and_both_benchmarks(page: Page) -> None:
    bars = page.chart("chart-employment-rate")
    assert [float(b.value) for b in bars] == [e / a for _, e, a in QUARTERS]
    lines = [
        a["data-value"]
        for t, a in page.tags
        if t == "line" and "reference" in (a.get("class") or "")
    ]
    assert "0.41" in lines and "0.5" in lines
    assert "17 of 32" in " ".join(page.text)


def test_employer_contacts_chart_has_a_bar_per_specialist_per_week(page: Page) -> None:
    assert report_weeks(FIDELITY) == WEEKS
    bars = page.chart("chart-employer-contacts")
    expected = [(es, CONTACTS[es].get(week, 0)) for week in WEEKS for es in sorted(SPECIALISTS)]
    assert [(b.label, int(b.value)) for b in bars] == expected
    # The week nobody made a contact is there, as zeros.
    assert [int(b.value) for b in bars[6:9]] == [0, 0, 0]
    lines = [a for t, a in page.tags if t == "line" and "reference" in (a.get("class") or "")]
    assert "6" in [a["data-value"] for a in lines]


def test_follow_along_chart_has_a_bar_per_rule_and_says_no_due_contacts(page: Page) -> None:
    bars = page.chart("chart-follow-along")
    assert [(b.label, b.value) for b in bars] == [
        ("follow_along_monthly", repr(11 / 12)),
        ("follow_along_first_week", "0.6"),
        ("job_loss_within_3_days", "none"),
    ]
    text = " ".join(page.text)
    assert "no due contacts" in text
    assert "92% (11 of 12)" in text
    assert not re.search(r"job_loss_within_3_days\s*0%", text)


def test_each_chart_has_a_title_a_description_and_axis_labels(html: str) -> None:
    for chart_id in ("chart-employment-rate", "chart-employer-contacts", "chart-follow-along"):
        svg = re.search(rf'<svg id="{chart_id}".*?</svg>', html, re.S)
        assert svg, chart_id
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in svg[0]
        assert f'<title id="{chart_id}-title">' in svg[0]
        assert f'<desc id="{chart_id}-desc">' in svg[0]
        assert svg[0].count('class="axis-label"') == 2
    desc = re.search(r'<desc id="chart-follow-along-desc">(.*?)</desc>', html)
    assert desc and "job_loss_within_3_days: no due contacts" in desc[1]


# Headless Chromium ------------------------------------------------------------


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs Debian's chromium when it can")
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1200,2000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at = 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        yield data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        at += 12 + length


def png_size_and_colours(data: bytes) -> tuple[int, int, set[bytes]]:
    """Width, height and the distinct colours of an 8-bit RGB or RGBA PNG."""
    chunks = list(_png_chunks(data))
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[0][1][:10])
    assert chunks[0][0] == b"IHDR" and depth == 8 and colour_type in (2, 6)
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * bpp
    previous = bytearray(stride)
    colours: set[bytes] = set()
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = previous[i], previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        colours.update(bytes(line[i : i + 3]) for i in range(0, stride, bpp))
        previous = line
    return width, height, colours


@pytest.fixture(scope="module")
def report_file(html: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


def test_chromium_builds_the_three_charts_with_their_bars(
    report_file: Path, tmp_path: Path
) -> None:
    result = _chromium("--dump-dom", report_file.as_uri(), profile=tmp_path / "profile")
    dom = parse(result.stdout)
    assert len(dom.chart("chart-employment-rate")) == len(QUARTERS)
    assert len(dom.chart("chart-employer-contacts")) == len(WEEKS) * len(SPECIALISTS)
    assert len(dom.chart("chart-follow-along")) == len(ON_TIME)
    assert [b.label for b in dom.chart("chart-employer-contacts")][:3] == sorted(SPECIALISTS)


def test_chromium_paints_the_page_with_its_charts(report_file: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "report.png"
    _chromium(f"--screenshot={screenshot}", report_file.as_uri(), profile=tmp_path / "profile")
    width, height, colours = png_size_and_colours(screenshot.read_bytes())
    assert (width, height) == (1200, 2000)
    assert len(colours) > 50  # text, bars and lines: a blank page has one
    # Each specialist's bar colour and the benchmark lines' colour are painted.
    for colour in ("0072B2", "E69F00", "009E73", "D55E00"):
        assert bytes.fromhex(colour) in colours, colour
    if keep := os.environ.get("IPS_KEEP_SCREENSHOT"):
        Path(keep).write_bytes(screenshot.read_bytes())


def test_a_report_with_nothing_in_it_still_renders() -> None:
    empty = FidelityReport(start=date(2027, 3, 1), end=date(2027, 3, 7), scope="agency", figures=[])
    page = parse(render_html(empty, [], generated_at=MADE))
    text = " ".join(page.text)
    assert "1 March 2027 to 7 March 2027" in text
    assert page.chart("chart-employment-rate") == []
    assert page.chart("chart-follow-along") == []
    assert {a.get("id") for t, a in page.tags if t == "svg"} == {
        "chart-employment-rate",
        "chart-employer-contacts",
        "chart-follow-along",
    }
