"""Outgoing webhooks: subscriptions, the events they are told of, and the delivery log."""
