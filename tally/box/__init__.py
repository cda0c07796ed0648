"""The ballot box (票箱): ballot forms for the kiosks, intake of envelopes and the chain, the life
of a round, counting and the auditor's export.
"""
