"""openstatus scheduler: Turns active monitors into check jobs."""
