"""Mail to status-page subscribers: reports, maintenances, reminders and the opt-in confirmation.

``intake`` turns page events into queued mail (``subscriber_deliveries``), ``reminders`` queues the "starts
soon" mail of maintenances, ``mailer`` sends what is due; ``content`` says what each mail contains and
``compose`` reads it from the database.
"""
