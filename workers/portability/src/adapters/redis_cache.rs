//! [`CacheStore`] on Redis, shared by every replica that points at the same server.
//!
//! Entries are `SET <prefix>c:<key> <tag><value> PX <ttl>`, where the first byte tags the
//! entry as a value (`v`) or a negative entry (`n`), so no value can be mistaken for the
//! negative marker. Rate-limit slots are `<prefix>s:<key>`, reserved by one Lua script that
//! reads the server clock (`TIME`), so replicas with skewed clocks still get spaced turns; the
//! slot key expires by itself once its turn is past. Needs Redis 5 or later (scripts that
//! call `TIME` before writing rely on effects replication).

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Client, ConnectionAddr, Script};

use crate::cache::{CacheEntry, CacheStore, positive_millis, validate_key};
use crate::error::{PortabilityError, Result};

const TAG_VALUE: u8 = b'v';
const TAG_NEGATIVE: u8 = b'n';

/// KEYS[1]: slot key; ARGV[1]: spacing in ms. Returns the wait in ms.
const RESERVE_SLOT: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local spacing = tonumber(ARGV[1])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local turn = math.max(now, next_free)
local new_next = turn + spacing
redis.call('SET', KEYS[1], string.format('%.0f', new_next), 'PX', string.format('%.0f', new_next - now))
return turn - now
";

/// A [`CacheStore`] in Redis, with all its keys under a prefix.
#[derive(Clone)]
pub struct RedisCacheStore {
    connection: ConnectionManager,
    prefix: String,
    server: String,
    reserve_slot: Script,
}

impl std::fmt::Debug for RedisCacheStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCacheStore")
            .field("server", &self.server)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisCacheStore {
    /// Connects to `url` (`redis://[:password@]host:port[/db]`) and keeps every key under
    /// `prefix` (e.g. `"heaven:cache:"`); stores with different prefixes are independent,
    /// stores with the same prefix share entries and rate-limit slots. The connection
    /// reconnects by itself after the server comes back.
    ///
    /// Errors: a malformed URL is [`PortabilityError::InvalidInput`]; a server that cannot be
    /// reached is [`PortabilityError::Unavailable`] naming its address.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        let client = Client::open(url)
            .map_err(|err| PortabilityError::InvalidInput(format!("invalid Redis URL: {err}")))?;
        let server = match &client.get_connection_info().addr {
            ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => {
                format!("Redis at {host}:{port}")
            }
            ConnectionAddr::Unix(path) => format!("Redis at {}", path.display()),
        };
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_connection_timeout(Duration::from_secs(5))
            .set_response_timeout(Duration::from_secs(10));
        let connection = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(|err| PortabilityError::from_redis(&server, err))?;
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
            server,
            reserve_slot: Script::new(RESERVE_SLOT),
        })
    }

    /// The prefix under which this store keeps its keys.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn entry_key(&self, key: &str) -> String {
        format!("{}c:{key}", self.prefix)
    }

    fn slot_key(&self, key: &str) -> String {
        format!("{}s:{key}", self.prefix)
    }

    fn redis_error(&self, err: redis::RedisError) -> PortabilityError {
        PortabilityError::from_redis(&self.server, err)
    }

    async fn write(&self, key: &str, tagged: Vec<u8>, ttl: Duration) -> Result<()> {
        validate_key(key)?;
        let ttl_ms = positive_millis("ttl", ttl)?;
        let mut connection = self.connection.clone();
        redis::cmd("SET")
            .arg(self.entry_key(key))
            .arg(tagged)
            .arg("PX")
            .arg(ttl_ms)
            .query_async::<()>(&mut connection)
            .await
            .map_err(|err| self.redis_error(err))
    }
}

#[async_trait]
impl CacheStore for RedisCacheStore {
    async fn get(&self, key: &str) -> Result<Option<CacheEntry>> {
        validate_key(key)?;
        let mut connection = self.connection.clone();
        let stored: Option<Vec<u8>> = connection
            .get(self.entry_key(key))
            .await
            .map_err(|err| self.redis_error(err))?;
        match stored.as_deref() {
            None => Ok(None),
            Some([TAG_NEGATIVE]) => Ok(Some(CacheEntry::Negative)),
            Some([TAG_VALUE, value @ ..]) => Ok(Some(CacheEntry::Hit(value.to_vec()))),
            Some(_) => Err(PortabilityError::Encoding(format!(
                "cache entry {key:?} in {} has an unknown tag",
                self.server
            ))),
        }
    }

    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<()> {
        let mut tagged = Vec::with_capacity(value.len() + 1);
        tagged.push(TAG_VALUE);
        tagged.extend_from_slice(&value);
        self.write(key, tagged, ttl).await
    }

    async fn put_negative(&self, key: &str, ttl: Duration) -> Result<()> {
        self.write(key, vec![TAG_NEGATIVE], ttl).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        validate_key(key)?;
        let mut connection = self.connection.clone();
        connection
            .del::<_, ()>(self.entry_key(key))
            .await
            .map_err(|err| self.redis_error(err))
    }

    async fn reserve_slot(&self, key: &str, spacing: Duration) -> Result<Duration> {
        validate_key(key)?;
        let spacing_ms = positive_millis("spacing", spacing)?;
        let mut connection = self.connection.clone();
        let wait_ms: i64 = self
            .reserve_slot
            .key(self.slot_key(key))
            .arg(spacing_ms)
            .invoke_async(&mut connection)
            .await
            .map_err(|err| self.redis_error(err))?;
        Ok(Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0)))
    }
}
