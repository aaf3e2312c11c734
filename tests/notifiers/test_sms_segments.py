"""SMS segments: 160 GSM-7 characters (the extension table counts double) or
70 UCS-2 ones in one segment; longer texts in parts of 153 or 67."""

import pytest

from notifiers.messages import sms_encoding, sms_segments


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        ("Reply STOP to opt out.", "GSM-7"),
        ("mañana, café, Müller, à la carte", "GSM-7"),  # ñ, é, ü, à are in the basic set
        ("Msg&data {rates} [may] ~apply~ | 5€ ^", "GSM-7"),  # the extension table
        ("más", "UCS-2"),  # á is not GSM-7
        ("reunión", "UCS-2"),  # nor ó
        ("Ça", "GSM-7"),
        ("ça", "UCS-2"),  # only the capital Ç is
        ("ok 👍", "UCS-2"),
    ],
)
def test_encoding(body: str, encoding: str) -> None:
    assert sms_encoding(body) == encoding


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("", 1),
        ("é" * 160, 1),
        ("ñ" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # 160 septets
        ("€" + "a" * 159, 2),  # 161 septets
        # An escape and its character never straddle two parts: 152 + 2 does not fit in 153.
        ("a" * 152 + "€" + "a" * 10, 2),
        ("a" * 152 + "€" + "a" * 152, 3),  # 306 septets, yet three parts
        ("á" * 70, 1),
        ("á" * 71, 2),
        ("á" * 134, 2),
        ("á" * 135, 3),
        ("á" + "e" * 69, 1),  # one á makes the whole text UCS-2
        ("á" + "e" * 70, 2),
        ("👍" * 35, 1),  # two UTF-16 units each
        ("👍" * 36, 2),
    ],
)
def test_segments(body: str, segments: int) -> None:
    assert sms_segments(body) == segments
