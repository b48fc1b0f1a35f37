//! Reading typed configuration from environment variables.
//!
//! Services read their config once at start through an [`EnvSource`]; a missing or malformed
//! variable becomes a [`ConfigError`] whose message is one line naming the variable.

use std::collections::HashMap;
use std::str::FromStr;

/// A configuration error: the service refuses to start and prints this one line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A variable the chosen configuration needs is not set (or is empty).
    #[error("{var} is required {reason}")]
    Missing {
        /// The environment variable name.
        var: String,
        /// Why it is required, e.g. "when STATE_STORE=postgres".
        reason: String,
    },
    /// A variable is set but its value cannot be used.
    #[error("{var} has an invalid value {value:?}: {message}")]
    Invalid {
        /// The environment variable name.
        var: String,
        /// The value found.
        value: String,
        /// What is wrong with it.
        message: String,
    },
}

/// Where configuration values come from: the process environment, or a fixed map in tests.
#[derive(Debug, Clone, Default)]
pub enum EnvSource {
    /// `std::env::var`.
    #[default]
    Process,
    /// A fixed set of variables (tests, `--env-file` style loading).
    Map(HashMap<String, String>),
}

impl EnvSource {
    /// A source holding exactly these variables.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// The value of `var`, or `None` when it is unset or empty (an empty variable counts as unset).
    pub fn optional(&self, var: &str) -> Option<String> {
        let value = match self {
            Self::Process => std::env::var(var).ok(),
            Self::Map(map) => map.get(var).cloned(),
        };
        value.filter(|v| !v.trim().is_empty())
    }

    /// The value of `var`, or [`ConfigError::Missing`] stating `reason`.
    pub fn required(&self, var: &str, reason: &str) -> Result<String, ConfigError> {
        self.optional(var).ok_or_else(|| ConfigError::Missing {
            var: var.to_owned(),
            reason: reason.to_owned(),
        })
    }

    /// The parsed value of `var`, or `default` when unset; a value that does not parse is
    /// [`ConfigError::Invalid`].
    pub fn parse_or<T>(&self, var: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match self.optional(var) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e: T::Err| ConfigError::Invalid {
                    var: var.to_owned(),
                    value: raw.clone(),
                    message: e.to_string(),
                }),
        }
    }

    /// Like [`EnvSource::parse_or`] for a count or duration that must be at least 1.
    pub fn positive_or<T>(&self, var: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + From<u8> + std::fmt::Display,
        T::Err: std::fmt::Display,
    {
        let value = self.parse_or(var, default)?;
        if value < T::from(1) {
            return Err(ConfigError::Invalid {
                var: var.to_owned(),
                value: value.to_string(),
                message: "must be at least 1".into(),
            });
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_unset() {
        let env = EnvSource::from_pairs([("A", " "), ("B", "x")]);
        assert_eq!(env.optional("A"), None);
        assert_eq!(env.optional("B").as_deref(), Some("x"));
        let err = env.required("A", "when X=y").unwrap_err();
        assert_eq!(err.to_string(), "A is required when X=y");
    }

    #[test]
    fn positive_or_refuses_zero() {
        let env = EnvSource::from_pairs([("N", "0"), ("M", "3")]);
        assert_eq!(env.positive_or("M", 1u32), Ok(3));
        assert_eq!(env.positive_or("UNSET", 9u64), Ok(9));
        assert_eq!(
            env.positive_or("N", 1u32).unwrap_err().to_string(),
            "N has an invalid value \"0\": must be at least 1"
        );
    }

    #[test]
    fn parse_or_reports_the_variable() {
        let env = EnvSource::from_pairs([("PORT", "eighty")]);
        assert_eq!(env.parse_or("OTHER", 7u16), Ok(7));
        let err = env.parse_or::<u16>("PORT", 1).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("PORT has an invalid value \"eighty\"")
        );
    }
}
