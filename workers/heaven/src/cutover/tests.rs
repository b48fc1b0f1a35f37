use super::*;

/// A `/metrics` text for service `api`: `ok` 2xx and `bad` 5xx requests on one route, `fast`
/// of them under 5 ms and the rest between 250 and 500 ms.
fn metrics(ok: u64, bad: u64, fast: u64) -> Snapshot {
    let total = ok + bad;
    let text = format!(
        "# TYPE http_requests_total counter\n\
         http_requests_total{{method=\"GET\",route=\"/api/names/{{label}}\",service=\"api\",status=\"200\"}} {ok}\n\
         http_requests_total{{method=\"GET\",route=\"/api/names/{{label}}\",service=\"api\",status=\"500\"}} {bad}\n\
         http_requests_total{{method=\"GET\",route=\"/health\",service=\"resolver\",status=\"500\"}} 999\n\
         # TYPE http_request_errors_total counter\n\
         http_request_errors_total{{method=\"GET\",route=\"/api/names/{{label}}\",service=\"api\"}} {bad}\n\
         # TYPE http_request_duration_seconds histogram\n\
         http_request_duration_seconds_bucket{{method=\"GET\",route=\"/api/names/{{label}}\",service=\"api\",le=\"0.005\"}} {fast}\n\
         http_request_duration_seconds_bucket{{method=\"GET\",route=\"/api/names/{{label}}\",service=\"api\",le=\"0.25\"}} {fast}\n\
         http_request_duration_seconds_bucket{{method=\"GET\",route=\"/api/names/{{label}}\",service=\"api\",le=\"0.5\"}} {total}\n\
         http_request_duration_seconds_bucket{{method=\"GET\",route=\"/api/names/{{label}}\",service=\"api\",le=\"+Inf\"}} {total}\n\
         http_request_duration_seconds_sum{{method=\"GET\",route=\"/api/names/{{label}}\",service=\"api\"}} 1\n\
         http_request_duration_seconds_count{{method=\"GET\",route=\"/api/names/{{label}}\",service=\"api\"}} {total}\n"
    );
    Snapshot::parse(&text).unwrap()
}

fn limits(shadow: Option<f64>) -> Thresholds {
    Thresholds {
        min_requests: 100,
        max_error_rate_percent: 1.0,
        max_p95_ms: 50.0,
        min_shadow_agreement_percent: shadow,
    }
}

fn failed(v: &Verdict) -> Vec<&'static str> {
    v.checks
        .iter()
        .filter(|c| !c.pass)
        .map(|c| c.name)
        .collect()
}

#[test]
fn a_healthy_window_is_go() {
    let v = evaluate(
        "api",
        &metrics(10, 0, 10),
        &metrics(1010, 5, 1015),
        &limits(None),
        None,
    );
    assert_eq!(v.requests, 1005, "only the window, only this service");
    assert!(v.go(), "{}", v.render());
    assert!(v.render().ends_with("GO\n"));
    assert!(v.render().contains("0.50 %"), "{}", v.render());
}

#[test]
fn too_many_errors_is_no_go() {
    let v = evaluate(
        "api",
        &metrics(0, 0, 0),
        &metrics(900, 100, 1000),
        &limits(None),
        None,
    );
    assert_eq!(failed(&v), ["error rate (5xx)"]);
    assert!(v.render().contains("10.00 %"));
    assert!(v.render().ends_with("NO-GO\n"));
}

#[test]
fn a_slow_p95_is_no_go() {
    // 10 % of requests between 250 and 500 ms: the p95 falls in that bucket.
    let v = evaluate(
        "api",
        &metrics(0, 0, 0),
        &metrics(1000, 0, 900),
        &limits(None),
        None,
    );
    assert_eq!(failed(&v), ["p95 latency"]);
    // Rank 950 of 1000: half-way through the (250, 500] bucket holding 100.
    assert!(v.render().contains("375.0 ms"), "{}", v.render());
}

#[test]
fn too_little_traffic_is_no_go() {
    let v = evaluate(
        "api",
        &metrics(0, 0, 0),
        &metrics(50, 0, 50),
        &limits(None),
        None,
    );
    assert_eq!(failed(&v), ["requests"]);
}

#[test]
fn shadow_disagreement_or_a_missing_summary_is_no_go() {
    let (a, b) = (metrics(0, 0, 0), metrics(1000, 0, 1000));
    assert!(evaluate("api", &a, &b, &limits(Some(99.0)), Some(99.5)).go());
    let low = evaluate("api", &a, &b, &limits(Some(99.0)), Some(97.0));
    assert_eq!(failed(&low), ["shadow agreement"]);
    let none = evaluate("api", &a, &b, &limits(Some(99.0)), None);
    assert_eq!(failed(&none), ["shadow agreement"]);
    assert!(none.render().contains("not given"));
}

#[test]
fn a_restarted_process_counts_from_zero() {
    let v = evaluate(
        "api",
        &metrics(5000, 0, 5000),
        &metrics(300, 0, 300),
        &limits(None),
        None,
    );
    assert_eq!(v.requests, 300);
}

#[test]
fn the_checked_in_thresholds_parse_and_cover_every_service() {
    let file =
        ThresholdsFile::parse(include_str!("../../../../deploy/cutover/thresholds.json")).unwrap();
    for service in ["api", "metadata-resolver", "voice-agent", "voice-rooms"] {
        assert!(file.services.contains_key(service), "{service}");
    }
    assert!(ThresholdsFile::parse(r#"{"version":2,"services":{}}"#).is_err());
    let bad = r#"{"version":1,"services":{"api":{"min_requests":1,"max_error_rate_percent":120,"max_p95_ms":5}}}"#;
    assert!(
        ThresholdsFile::parse(bad)
            .unwrap_err()
            .contains("services.api")
    );
}

#[test]
fn label_values_with_braces_commas_and_escapes_are_read() {
    // axum route templates put braces in label values; a parser that drops those lines would
    // see no traffic at all.
    let text = "# HELP x y\n\
        http_requests_total{method=\"GET\",route=\"/a/{x}\",service=\"api\",status=\"200\"} 5\n\
        http_requests_total{route=\"/b,\\\"q\\\"\",service=\"api\"} 7 1700000000000\n\
        http_request_errors_total{service=\"api\"} 1e1\n";
    let s = Snapshot::parse(text).unwrap();
    let w = s.since(&Snapshot::default(), "api");
    assert_eq!((w.requests, w.errors), (12, 10));
    assert!(Snapshot::parse("http_requests_total{service=\"api\" 5").is_err());
    assert!(Snapshot::parse("http_requests_total{service=\"api\"} five").is_err());
}
