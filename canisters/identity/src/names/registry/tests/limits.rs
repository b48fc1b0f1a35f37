//! Registrations are rate-limited per owner and per client IP (issue #23 point 6: the original
//! had no limit, 376 names in 2.5 s came from one IP). Only registrations made count; the owner
//! limit counts signed requests, so nobody but the owner can spend it.

use super::*;

fn register_from(key: &SigningKey, label: &str, n: u32, secs: u64, ip: Option<&str>) -> ApiResult {
    let body = register_body(key, label, None, &nonce(n), secs);
    register_with_client_ip(&post(&body), at(secs), ip)
}

#[test]
fn an_owner_registers_a_few_names_an_hour() {
    let k = key(1);
    for (i, label) in ["alpha", "bravo", "charlie"].into_iter().enumerate() {
        register_from(&k, label, i as u32, T0 + i as u64, None).unwrap();
    }
    assert_failure(
        register_from(&k, "delta", 3, T0 + 10, None),
        429,
        "Rate limited: owner limit exceeded",
    );
    // A failed attempt (a taken name) does not count, and the window slides.
    assert_failure(
        register_from(&key(2), "alpha", 4, T0 + 11, None),
        400,
        "Name is already taken",
    );
    register_from(&key(2), "echo", 5, T0 + 12, None).unwrap();
    register_from(&k, "delta", 6, T0 + 3603, None).unwrap();
}

#[test]
fn one_ip_registers_a_bounded_number_of_names_an_hour() {
    let ip = Some("203.0.113.7");
    for n in 0..REGISTER_IP_LIMIT {
        let label = format!("name{n:04}");
        register_from(&key(10 + n as u8), &label, n, T0, ip).unwrap();
    }
    assert_failure(
        register_from(&key(200), "onemore", 999, T0, ip),
        429,
        "Rate limited: IP limit exceeded",
    );
    // Other clients are not affected.
    register_from(&key(200), "onemore", 1000, T0, Some("198.51.100.1")).unwrap();
    // The sweep forgets registrations older than the window.
    assert_eq!(crate::names::sweep(at(T0 + 3601)).0, 0);
    register_from(&key(201), "another", 1001, T0 + 3601, ip).unwrap();
}
