//! The two HTML pages the desktop app opens (§4.9): the viewer's `watch` page and the
//! broadcaster's `broadcast` page, our own HTML and JavaScript with the original's element ids
//! and behaviours. Values are embedded as JavaScript string literals: the room id filtered to
//! `[A-Za-z0-9-]` as the original did, the ticket to hex, everything JSON-escaped with `<`
//! written as `\u003c` so no value can close the script.

const WATCH: &str = include_str!("pages/watch.html");
const BROADCAST: &str = include_str!("pages/broadcast.html");

/// A JavaScript string literal of `text` that is safe inside `<script>`.
pub fn js_string(text: &str) -> String {
    serde_json::to_string(text)
        .expect("a string serialises")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// The room id as the pages embed it.
pub fn page_room_id(room_id: &str) -> String {
    room_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// The viewer page of `room_id`, for the facilitator `mode`.
pub fn watch(room_id: &str, mode: &str) -> String {
    WATCH
        .replace("__ROOM_ID__", &js_string(&page_room_id(room_id)))
        .replace("__FACILITATOR_MODE__", &js_string(mode))
}

/// The broadcaster page of `room_id` with `ticket` (from `?bridgeTicket=`) and the Agora app
/// id.
pub fn broadcast(room_id: &str, ticket: &str, app_id: &str) -> String {
    let ticket: String = ticket.chars().filter(char::is_ascii_hexdigit).collect();
    BROADCAST
        .replace("__ROOM_ID__", &js_string(&page_room_id(room_id)))
        .replace("__BRIDGE_TICKET__", &js_string(&ticket))
        .replace("__APP_ID__", &js_string(app_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_values_cannot_break_out_of_the_script() {
        assert_eq!(js_string("</script>"), r#""\u003c/script\u003e""#);
        assert_eq!(page_room_id("a-1</script>"), "a-1script");
        let page = broadcast("r", "ab<cd", "0123456789abcdef0123456789abcdef");
        assert!(page.contains(r#"const bridgeTicket = "abcd";"#));
        assert!(page.contains(r#"const appId = "0123456789abcdef0123456789abcdef";"#));
        let page = watch("room-1", "mock");
        assert!(page.contains(r#"const facilitatorMode = "mock";"#));
        assert!(!page.contains("__"));
    }
}
