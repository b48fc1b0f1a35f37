//! Tests of install and upgrade.

use super::*;
use crate::state;
use crate::state::event::EventType;
use crate::time::Now;

#[test]
fn upgrade_keeps_config_unless_args_change_it() {
    init(
        InitArg {
            ecdsa_key_name: "dfx_test_key".into(),
        },
        Now::from_ns(1),
    );
    post_upgrade(None, Now::from_ns(2));
    state::with_config(|c| {
        assert_eq!(c.ecdsa_key_name, "dfx_test_key");
        assert_eq!(c.installs, 2);
    });
    post_upgrade(Some(UpgradeArg::default()), Now::from_ns(3));
    post_upgrade(
        Some(UpgradeArg {
            ecdsa_key_name: Some("key_1".into()),
        }),
        Now::from_ns(4),
    );
    state::with_config(|c| {
        assert_eq!(c.ecdsa_key_name, "key_1");
        assert_eq!(c.installs, 4);
    });
    let events: Vec<EventType> = state::with(|s| s.events_from(0).map(|e| e.payload).collect());
    assert_eq!(
        events.last(),
        Some(&EventType::Installed {
            ecdsa_key_name: "key_1".into(),
            installs: 4
        })
    );
    assert_eq!(events.len(), 4);
}

#[test]
fn the_install_argument_decodes_as_an_upgrade_argument() {
    // dfx sends `init_arg` again on upgrade: `(record { ecdsa_key_name = "dfx_test_key" })`.
    let sent = candid::encode_one(InitArg {
        ecdsa_key_name: "dfx_test_key".into(),
    })
    .unwrap();
    let arg: Option<UpgradeArg> = candid::decode_one(&sent).unwrap();
    assert_eq!(
        arg,
        Some(UpgradeArg {
            ecdsa_key_name: Some("dfx_test_key".into())
        })
    );
    let none = candid::encode_one(None::<InitArg>).unwrap();
    assert_eq!(
        candid::decode_one::<Option<UpgradeArg>>(&none).unwrap(),
        None
    );
}
