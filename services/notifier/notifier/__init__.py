"""openstatus notifier: Delivers alerts to notification channels."""
