use super::*;
use crate::canisters::Package;

fn workspace() -> Workspace {
    let package = |name: &str, benches: &[&str]| Package {
        name: name.into(),
        dir: format!("/w/{name}").into(),
        cdylib: None,
        benches: benches.iter().map(|b| b.to_string()).collect(),
    };
    Workspace {
        root: "/w".into(),
        target_dir: "/w/target".into(),
        packages: vec![
            package("heaven", &["footprint"]),
            package("xtask", &[]),
            package("voice_rooms", &["rooms_load", "duet_viewers"]),
        ],
    }
}

#[test]
fn every_bench_target_runs_when_nothing_is_named() {
    let ids: Vec<String> = targets(&workspace(), &[])
        .unwrap()
        .iter()
        .map(Target::id)
        .collect();
    assert_eq!(
        ids,
        [
            "heaven/footprint",
            "voice_rooms/rooms_load",
            "voice_rooms/duet_viewers"
        ]
    );
}

#[test]
fn filters_name_a_package_a_bench_or_both() {
    let pick = |f: &[&str]| -> Vec<String> {
        let filters: Vec<String> = f.iter().map(|s| s.to_string()).collect();
        targets(&workspace(), &filters)
            .unwrap()
            .iter()
            .map(Target::id)
            .collect()
    };
    assert_eq!(
        pick(&["voice_rooms"]),
        ["voice_rooms/rooms_load", "voice_rooms/duet_viewers"]
    );
    assert_eq!(pick(&["footprint"]), ["heaven/footprint"]);
    assert_eq!(
        pick(&["voice_rooms/duet_viewers", "heaven"]),
        ["heaven/footprint", "voice_rooms/duet_viewers"]
    );
}

#[test]
fn an_unknown_filter_is_an_error_naming_the_known_benches() {
    let err = targets(&workspace(), &["nope".into()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("`nope`"), "{err}");
    assert!(err.contains("heaven/footprint"), "{err}");
}
