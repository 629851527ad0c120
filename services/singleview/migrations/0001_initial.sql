-- SingleView store, version 1. Portable SQL: the same file runs on SQLite and PostgreSQL.
-- Every table a person's data can reach is listed in services/singleview/_store.py (PERSONAL_TABLES)
-- so that erasure and the erasure test cover them all.

-- Where the subscriber is in each partition: written in the same transaction as the data.
CREATE TABLE sv_offset (
    topic TEXT NOT NULL,
    partition_id INTEGER NOT NULL,
    next_offset BIGINT NOT NULL,
    PRIMARY KEY (topic, partition_id)
);

-- One row per agency person record (the latest PersonRecorded for its key).
CREATE TABLE sv_person_record (
    record_key TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    publisher TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    person_json TEXT NOT NULL,
    family_name TEXT,
    given_name TEXT,
    birth_date TEXT,
    postcode TEXT
);
CREATE INDEX sv_person_record_name_dob ON sv_person_record (family_name, birth_date);
CREATE INDEX sv_person_record_dob ON sv_person_record (birth_date);
CREATE INDEX sv_person_record_postcode ON sv_person_record (postcode);
CREATE INDEX sv_person_record_given ON sv_person_record (given_name);

-- Every identifier of every person record (system|value, and the value alone in upper case), for
-- look-ups by NHS number, UPN or local id.
CREATE TABLE sv_identifier (
    id_key TEXT NOT NULL,
    record_key TEXT NOT NULL,
    id_value TEXT NOT NULL,
    PRIMARY KEY (id_key, record_key)
);
CREATE INDEX sv_identifier_record ON sv_identifier (record_key);
CREATE INDEX sv_identifier_value ON sv_identifier (id_value);

-- Service episodes and the keys of the people they are about.
CREATE TABLE sv_episode (
    episode_key TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    publisher TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    start_at BIGINT,
    end_at BIGINT,
    episode_json TEXT
);
CREATE TABLE sv_episode_subject (
    episode_key TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    PRIMARY KEY (episode_key, subject_key)
);
CREATE INDEX sv_episode_subject_subject ON sv_episode_subject (subject_key);

-- Life events (the timeline) and the keys of the people they concern.
CREATE TABLE sv_life_event (
    event_key TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    publisher TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    start_at BIGINT,
    event_json TEXT NOT NULL
);
CREATE TABLE sv_life_event_subject (
    event_key TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    PRIMARY KEY (event_key, subject_key)
);
CREATE INDEX sv_life_event_subject_subject ON sv_life_event_subject (subject_key);

-- Records an agency merged into another (PersonsMerged): references to the retired key follow it.
CREATE TABLE sv_merged (
    retired_key TEXT PRIMARY KEY,
    survivor_key TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX sv_merged_survivor ON sv_merged (survivor_key);

-- Removed records: a one-way hash of the key and when, so a late older event cannot bring it back.
CREATE TABLE sv_removed (
    key_hash TEXT PRIMARY KEY,
    removed_at BIGINT NOT NULL
);

-- Linkage: which person each record belongs to (the linker's stable person ids). Why records
-- were linked and possible matches are worked out from the records when a page asks.
CREATE TABLE sv_link (
    record_key TEXT PRIMARY KEY,
    person_id TEXT NOT NULL
);
CREATE INDEX sv_link_person ON sv_link (person_id);

-- Person ids retired because two persons turned out to be one: where each now points.
CREATE TABLE sv_person_redirect (
    person_id TEXT PRIMARY KEY,
    into_id TEXT NOT NULL
);

-- Small pieces of linker state that must survive a restart (the next person number).
CREATE TABLE sv_linker_state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
