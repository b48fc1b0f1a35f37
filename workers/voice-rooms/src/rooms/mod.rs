//! Free rooms (`/rooms/*`).
pub mod db;
