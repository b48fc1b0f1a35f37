//! Cover Art Archive: a release group's `coverArtUrl` is always the CAA `front-250` URL (the
//! worker never reads CAA during a request; the background rehost downloads it later, following
//! CAA's redirect to archive.org).

/// `{base}/release-group/{mbid}/front-250`.
pub fn front_250(base_url: &str, release_group_mbid: &str) -> String {
    format!("{base_url}/release-group/{release_group_mbid}/front-250")
}

#[cfg(test)]
mod tests {
    #[test]
    fn builds_the_front_250_url() {
        assert_eq!(
            super::front_250("https://coverartarchive.org", "abc"),
            "https://coverartarchive.org/release-group/abc/front-250"
        );
    }
}
