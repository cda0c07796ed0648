"""The hall (会场): the roster and check-in (签到), ballot cards and desk unlocks, and the kiosks paired with the tally.
"""
