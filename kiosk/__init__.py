"""The kiosk agent (投票终端代理) that runs beside each voting tablet.

Pairs with the tally, shows the voter screens, seals each ballot (`keys.envelope`), keeps it
in a durable outbox and resends it until the tally's signed receipt comes back. Never imports
`tally`: it speaks to it only over the HTTP API of docs/architecture.md.
"""
