"""SSP Bot: the SEN Support Plan process for schools in England, run from Slack."""
