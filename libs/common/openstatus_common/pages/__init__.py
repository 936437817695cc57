"""Status pages: the rules every surface shares (statuses, trackers, snapshots, links, subscribers)."""
