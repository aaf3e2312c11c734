"""The HTTP API for staff (SPEC §9): FastAPI over the service layer, which holds
every operation; this package only turns requests and answers into JSON."""
