"""Agency sweeps on a schedule: APScheduler cron triggers that start the sweep
workflows (`workflows.sweeps`), one job per recipient and sweep."""
