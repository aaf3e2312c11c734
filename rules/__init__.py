"""Pure, deterministic IPS rules: no Temporal, no database, no provider."""
