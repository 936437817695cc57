"""openstatus probe: Runs HTTP, TCP and DNS checks for one region."""
