"""SSP Bot without a real school or a real Slack: for `sspbot demo`, the tests and the benches.

A synthetic school (`school.create_demo_school`), an emulated Slack Web API
(`slack_emulator`), a sender that signs requests as Slack does (`slack_sender`), Block Kit as
plain text (`blockkit_text`) and the guided tour that puts them together (`tour`).

The product never imports this package: only `bot.cli`, lazily, for `sspbot demo` and
`sspbot demo-data`. It ships in the wheel because those commands run from an installed one.
"""
