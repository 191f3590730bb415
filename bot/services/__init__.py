"""Domain services: plain Python that takes a Session and plain values. They know nothing of Slack."""
