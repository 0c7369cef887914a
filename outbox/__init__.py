"""Outgoing e-mail: written in the transaction of the change it tells of, sent after commit.

Like `audit/`, a ground floor: it imports no other app, and every app mails through it.
"""
