-- Every record of the store, keyed as in sled (see src/store/keys.rs): a tag byte per record
-- kind, then the kind's key. bytea compares bytewise, so range scans keep sled's order.
CREATE TABLE newsriver_records (
    k bytea PRIMARY KEY,
    v bytea NOT NULL
);
