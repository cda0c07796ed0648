"""Judge scoring (评分, 演讲答辩): the panel and its cards, the scoring of one contestant at a time, and the standings.
"""
