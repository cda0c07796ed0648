"""Setting a meeting up (会议准备): the data directory, the plan read back from the database, and the custody of round keys.
"""
