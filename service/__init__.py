"""The operations staff perform, one implementation each, used by the API and
the `ips` command alike: people, referrals and events, journeys, due lists."""
