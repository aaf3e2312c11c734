"""The journey's side effects, as Temporal activities."""
