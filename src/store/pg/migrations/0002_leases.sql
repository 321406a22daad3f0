-- Polling shared between instances (src/store/pg/lease.rs): one row per source with who holds
-- its lease until when, when it is next due and who polled it last; one row per host with who
-- may fetch from it until when. Every time is the database's clock (now()), never an instance's.
CREATE TABLE newsriver_leases (
    source text PRIMARY KEY,
    -- The host its polls fetch from (the host lease a poll needs).
    host text NOT NULL DEFAULT '',
    holder text,
    until timestamptz,
    -- NULL: not due by interval (a cron source in good standing, or polling stopped for it).
    due timestamptz,
    -- The last cron fire time a poll was claimed for, so that one instance polls per firing.
    fired timestamptz,
    polled_by text,
    polled_at timestamptz
);
CREATE INDEX newsriver_leases_due ON newsriver_leases (due);
CREATE INDEX newsriver_leases_holder ON newsriver_leases (holder);

CREATE TABLE newsriver_host_leases (
    host text PRIMARY KEY,
    holder text,
    until timestamptz
);
