"""Calendar feeds (SPEC §8): what a specialist's or a team's calendar shows."""

from feeds.build import Feed, FeedScope, build_feed

__all__ = ["Feed", "FeedScope", "build_feed"]
