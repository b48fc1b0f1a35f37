//! A `wrangler d1 export` of voice-control-plane's room tables, shared by the import and
//! backup tests.

/// The original's `rooms`, `room_participants` and `song_registry`, as `wrangler d1 export`
/// writes them (schema of migrations 0001 and 0002, then the rows).
pub const ROOMS_DUMP: &str = r#"PRAGMA defer_foreign_keys=TRUE;
CREATE TABLE rooms (room_id TEXT PRIMARY KEY, room_type TEXT NOT NULL CHECK (room_type IN ('free','booked')), booking_id INTEGER, host_wallet TEXT NOT NULL, capacity INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('active','closed')), metadata_json TEXT, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, closed_at TEXT);
INSERT INTO "rooms" VALUES('r-closed','free',NULL,'0x00000000000000000000000000000000000000aa',6,'closed','{"visibility":"open","ai_enabled":false}','2026-01-10T10:00:00.000Z','2026-01-10T10:30:00.000Z');
INSERT INTO "rooms" VALUES('r-live','free',NULL,'0x00000000000000000000000000000000000000AA',6,'active','{"visibility":"private","ai_enabled":true}','2026-01-10T11:00:00.000Z',NULL);
INSERT INTO "rooms" VALUES('booked-7','booked',7,'0x00000000000000000000000000000000000000bb',2,'active',NULL,'2026-01-10T12:00:00.000Z',NULL);
CREATE TABLE room_participants (connection_id TEXT PRIMARY KEY, room_id TEXT NOT NULL, wallet TEXT NOT NULL, agora_uid INTEGER NOT NULL, joined_at_epoch INTEGER NOT NULL, last_metered_at_epoch INTEGER NOT NULL, left_at_epoch INTEGER, warned_low INTEGER NOT NULL DEFAULT 0, exhausted INTEGER NOT NULL DEFAULT 0, debited_seconds INTEGER NOT NULL DEFAULT 0);
INSERT INTO "room_participants" VALUES('c1','r-closed','0x00000000000000000000000000000000000000aa',11,1768039200,1768041000,1768041000,0,0,1800);
INSERT INTO "room_participants" VALUES('c2','r-live','0x00000000000000000000000000000000000000aa',12,1768042800,1768043400,NULL,1,0,600);
INSERT INTO "room_participants" VALUES('c3','r-live','0x00000000000000000000000000000000000000cc',13,1768042900,1768043430,NULL,0,0,530);
INSERT INTO "room_participants" VALUES('c4','r-live','0x00000000000000000000000000000000000000dd',4294967295,1768042800,1768042860,1768042860,0,1,60);
CREATE TABLE duet_rooms (room_id TEXT PRIMARY KEY, host_wallet TEXT NOT NULL, guest_wallet TEXT, status TEXT NOT NULL CHECK (status IN ('created', 'live', 'ended')), split_address TEXT NOT NULL, network TEXT NOT NULL, live_amount TEXT NOT NULL, replay_amount TEXT NOT NULL, audience_mode TEXT NOT NULL CHECK (audience_mode IN ('free', 'ticketed')), visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'unlisted')), title TEXT, room_kind TEXT, listener_count INTEGER NOT NULL DEFAULT 0, live_started_at INTEGER, ended_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
INSERT INTO "duet_rooms" VALUES('d-ended','0x00000000000000000000000000000000000000aa','0x00000000000000000000000000000000000000cc','ended','0x00000000000000000000000000000000000000ee','eip155:84532','100000','50000','ticketed','public','Late set','dj_set',12,1768040000,1768043600,1768039000,1768043600);
INSERT INTO "duet_rooms" VALUES('d-live','0x00000000000000000000000000000000000000AA',NULL,'live','0x00000000000000000000000000000000000000ee','eip155:84532','0','0','free','unlisted',NULL,NULL,4,1768044000,NULL,1768043900,1768044500);
INSERT INTO "duet_rooms" VALUES('d-created','0x00000000000000000000000000000000000000bb',NULL,'created','0x00000000000000000000000000000000000000ee','eip155:84532','250000','100000','ticketed','public','Soon','duet',0,NULL,NULL,1768045000,1768045000);
CREATE TABLE song_registry (song_id TEXT PRIMARY KEY, title TEXT NOT NULL, artist TEXT NOT NULL, title_norm TEXT NOT NULL, artist_norm TEXT NOT NULL, story_ip_id TEXT NOT NULL UNIQUE, controller_wallet TEXT NOT NULL, payout_chain_id INTEGER NOT NULL, payout_address TEXT NOT NULL, default_upstream_bps INTEGER NOT NULL DEFAULT 0, payout_attestation_sig TEXT NOT NULL, license_preset_id TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
INSERT INTO "song_registry" VALUES('s1','Héllo','Ärtist','hello','artist','0xstory1','0x00000000000000000000000000000000000000aa',1315,'0x00000000000000000000000000000000000000ee',250,'0xsig',NULL,1768000000,1768000100);
INSERT INTO "song_registry" VALUES('s2','Two','Band','two','band','0xstory2','0x00000000000000000000000000000000000000aa',1315,'0x00000000000000000000000000000000000000ee',0,'0xsig2','preset-1',1768000200,1768000200);
"#;
