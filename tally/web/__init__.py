"""The web layer: blueprints, access checks, errors and the translation layer. The only room that touches `flask.request`.

Views are thin: parse the request, call a service of another room, answer.
"""
