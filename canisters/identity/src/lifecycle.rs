//! Install and upgrade: store the init args in stable memory, count installs, log the event.
//! Upgrade args are optional; without them the stored configuration is kept. Timers are armed
//! by the entry points after these run (they do not survive an upgrade).

use crate::IdentityInitArgs;
use crate::events::EventKind;
use crate::state::{self, Config};

/// First install at `now_ns`.
pub fn init(args: IdentityInitArgs, now_ns: u64) {
    let config = Config {
        ecdsa_key_name: args.ecdsa_key_name,
        installs: 1,
        ..Config::default()
    };
    record_install(config, now_ns);
}

/// Upgrade at `now_ns`: stable memory is kept; apply new args if given.
pub fn post_upgrade(args: Option<IdentityInitArgs>, now_ns: u64) {
    let mut config = state::with_config(Config::clone);
    if let Some(args) = args {
        config.ecdsa_key_name = args.ecdsa_key_name;
    }
    config.installs += 1;
    record_install(config, now_ns);
}

fn record_install(config: Config, now_ns: u64) {
    state::with_mut(|s| {
        s.record(
            now_ns,
            EventKind::Installed {
                ecdsa_key_name: config.ecdsa_key_name.clone(),
                installs: config.installs,
            },
        );
        s.set_config(config);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrade_keeps_config_unless_args_change_it() {
        init(
            IdentityInitArgs {
                ecdsa_key_name: "dfx_test_key".into(),
            },
            1,
        );
        post_upgrade(None, 2);
        state::with_config(|c| {
            assert_eq!(c.ecdsa_key_name, "dfx_test_key");
            assert_eq!(c.installs, 2);
        });
        post_upgrade(
            Some(IdentityInitArgs {
                ecdsa_key_name: "key_1".into(),
            }),
            3,
        );
        state::with_config(|c| {
            assert_eq!(c.ecdsa_key_name, "key_1");
            assert_eq!(c.installs, 3);
        });
        assert_eq!(state::with(|s| s.events.len()), 3);
    }
}
