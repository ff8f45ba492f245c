"""The access log: who read what and when, kept apart from the audit trail so reads never wait
for the writers; append-only and chained in signed batches."""
