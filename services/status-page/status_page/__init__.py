"""openstatus status-page: public status pages, feeds, badges and embeds."""
