"""Calendar feeds of due contacts and appointments, per specialist and per team (SPEC §8)."""

from feeds.build import Feed, FeedScope, build_feed

__all__ = ["Feed", "FeedScope", "build_feed"]
