"""openstatus incident-engine: Records results, rolls them up, opens and resolves incidents."""
