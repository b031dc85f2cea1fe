//! Desktop notifications: one `Notify` call to the freedesktop
//! notification service on the session bus (what notify-send does), with
//! zbus, which keepsake already carries for the Secret Service.

use std::collections::HashMap;

/// The markup a notification daemon may read in a body, made plain text.
fn escape(s: &str) -> String {
    crate::terminal_text::clean(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Shows a notification; an error when there is no session bus or no
/// notification service on it.
pub async fn notify(summary: &str, body: &str) -> Result<(), String> {
    let conn = zbus::Connection::session()
        .await
        .map_err(|e| format!("no session bus: {e}"))?;
    let hints: HashMap<&str, zbus::zvariant::Value<'_>> = HashMap::new();
    let actions: Vec<&str> = vec![];
    conn.call_method(
        Some("org.freedesktop.Notifications"),
        "/org/freedesktop/Notifications",
        Some("org.freedesktop.Notifications"),
        "Notify",
        &(
            "keepsake",
            0u32,
            "",
            escape(summary).as_str(),
            escape(body).as_str(),
            actions,
            hints,
            -1i32,
        ),
    )
    .await
    .map_err(|e| format!("the notification service did not take it: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_and_controls_are_plain_text() {
        assert_eq!(
            super::escape("<b>x</b> & \u{1b}[2J"),
            "&lt;b&gt;x&lt;/b&gt; &amp; \u{fffd}[2J"
        );
    }
}
