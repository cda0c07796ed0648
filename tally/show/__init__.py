"""What people see (展示): the screens' read models, the one module that emits live events, and the printed sheets.
"""
