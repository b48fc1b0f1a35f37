//! Install and upgrade: store the init args in stable memory and count installs. Upgrade args
//! are optional; without them the stored configuration is kept.

use crate::CreditsInitArgs;
use crate::state::{self, Config};

/// First install.
pub fn init(args: CreditsInitArgs) {
    state::set_config(Config {
        ecdsa_key_name: args.ecdsa_key_name,
        installs: 1,
    });
}

/// Upgrade: stable memory is kept; apply new args if given.
pub fn post_upgrade(args: Option<CreditsInitArgs>) {
    let mut config = state::with_config(Config::clone);
    if let Some(args) = args {
        config.ecdsa_key_name = args.ecdsa_key_name;
    }
    config.installs += 1;
    state::set_config(config);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrade_keeps_config_unless_args_change_it() {
        init(CreditsInitArgs {
            ecdsa_key_name: "dfx_test_key".into(),
        });
        post_upgrade(None);
        state::with_config(|c| {
            assert_eq!(c.ecdsa_key_name, "dfx_test_key");
            assert_eq!(c.installs, 2);
        });
        post_upgrade(Some(CreditsInitArgs {
            ecdsa_key_name: "key_1".into(),
        }));
        state::with_config(|c| {
            assert_eq!(c.ecdsa_key_name, "key_1");
            assert_eq!(c.installs, 3);
        });
    }
}
