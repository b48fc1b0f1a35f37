//! The `heaven` binary as a library: command line, stack configuration, the service catalogue
//! and the code that opens the embedded resources and serves every built service.

pub mod cli;
pub mod config;
pub mod credits;
pub mod cutover;
pub mod data_dir;
pub mod error;
pub mod local_admin;
pub mod migrate;
pub mod random_token;
pub mod resources;
pub mod services;
pub mod shadow;
pub mod stack;

pub use error::HeavenError;
