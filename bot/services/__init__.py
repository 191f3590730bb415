"""Domain services: plain Python taking a Session and plain values, knowing nothing of Slack."""
