//! The backup screen: everything `backup status` knows, live upload and
//! restore progress, and the actions.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::widgets::{lines, progress, wrap};
use crate::app::AppState;
use crate::app::keys::Action;
use crate::app::time;
use crate::backup::entry::CURVE25519_ALGORITHM;
use crate::backup::health::Health;
use crate::backup::upload::UploadState;

/// A labelled value, wrapped under its label when the screen is narrow.
fn row(out: &mut Vec<Line<'_>>, width: u16, label: &str, value: impl Into<String>, style: Style) {
    let value = value.into();
    for (n, l) in wrap(&value, width.saturating_sub(17).max(10) as usize)
        .into_iter()
        .enumerate()
    {
        let label = if n == 0 { label } else { "" };
        out.push(Line::from(vec![
            Span::raw(format!("  {label:<14}")),
            Span::styled(l, style),
        ]));
    }
}

/// The verdict, what it means, and the keys that repair it.
fn health_rows(out: &mut Vec<Line<'_>>, w: u16, st: &AppState, theme: &Theme, h: &Health) {
    let k = |a| st.keys.first(a);
    let style = match h {
        Health::Healthy => theme.fg(theme.good),
        Health::Uploading { .. } => theme.fg(theme.accent),
        Health::NoBackup | Health::NoKey | Health::Offline { .. } => theme.fg(theme.warn),
        _ => theme.fg(theme.bad),
    };
    row(out, w, "Health", h.word().replace('_', " "), style);
    row(out, w, "", h.describe(), style);
    let todo = match h {
        Health::Healthy | Health::Uploading { .. } => None,
        Health::NoBackup => Some(format!("{} create a backup", k(Action::Create))),
        Health::NoKey => Some(format!(
            "{} restore with your recovery key · 3 unlock secret storage",
            k(Action::Restore)
        )),
        Health::KeyMismatch { .. } => Some(format!(
            "3 unlock the current key from secret storage · {} start a new backup",
            k(Action::Reset)
        )),
        Health::Replaced { opens: true, .. } => Some(format!(
            "{} upload there (this device's key opens it) · {} a new backup of our own",
            k(Action::UseCurrent),
            k(Action::Reset)
        )),
        Health::Replaced { algorithm, .. } if algorithm == CURVE25519_ALGORITHM => Some(format!(
            "{} take it over (its keys are restored here, then a new symmetric backup) · or leave it: nothing is backed up",
            k(Action::Reset)
        )),
        Health::Replaced { .. } => Some(format!(
            "3 unlock its key from secret storage · {} a new backup of our own",
            k(Action::Reset)
        )),
        Health::UnsupportedAlgorithm { .. } => Some(format!(
            "{} make a new symmetric backup (the other version stays on the server)",
            k(Action::Reset)
        )),
        Health::Offline { .. } | Health::Error { .. } => {
            Some("keys wait on this device; keepsake retries on its own".into())
        }
    };
    if let Some(t) = todo {
        row(out, w, "Repair", t, theme.fg(theme.accent));
    }
    out.push(Line::from(""));
}

/// The second page: per room and per version (`backup inspect`).
fn render_inspection(st: &AppState, theme: &Theme, f: &mut Frame, area: Rect) {
    let b = &st.backup;
    let w = area.width;
    let mut out = vec![Line::from(Span::styled(
        " Key backup: per room and per version",
        theme.title(),
    ))];
    out.push(Line::from(""));
    let Some(i) = &b.inspection else {
        let text = match &b.inspect_error {
            Some(e) => format!("  cannot inspect the backup: {e}"),
            None => format!("  {} reading the backup…", super::spinner(st)),
        };
        out.push(Line::from(Span::styled(text, theme.dim())));
        lines(f, area, out);
        return;
    };
    out.push(Line::from(Span::styled(
        "  Versions on the server",
        theme.title(),
    )));
    if i.versions.is_empty() {
        out.push(Line::from("  none"));
    }
    for v in &i.versions {
        let (opens, style) = match v.opens {
            Some(true) => ("our key opens it", theme.fg(theme.good)),
            Some(false) => ("our key does not open it", theme.fg(theme.warn)),
            None => ("not checked", theme.dim()),
        };
        let label = if v.current {
            format!("{} (current)", v.version)
        } else {
            v.version.clone()
        };
        row(
            &mut out,
            w,
            &label,
            format!("{} · {} keys · {opens}", v.algorithm, v.count),
            style,
        );
    }
    out.push(Line::from(""));
    let name_w = (w as usize).saturating_sub(46).clamp(8, 40);
    out.push(Line::from(Span::styled(
        format!(
            "  {:<name_w$} {:>6} {:>7} {:>8} {:>10} {:>7}",
            "Room", "here", "backup", "trusted", "untrusted", "fixable"
        ),
        theme.title(),
    )));
    for r in &i.rooms {
        let missing = r.held > r.in_backup;
        let style = if r.fixable > 0 || missing {
            theme.fg(theme.warn)
        } else {
            Style::default()
        };
        out.push(Line::from(Span::styled(
            format!(
                "  {:<name_w$} {:>6} {:>7} {:>8} {:>10} {:>7}",
                super::widgets::truncate(&r.name, name_w),
                r.held,
                r.in_backup,
                r.restored_trusted,
                r.restored_untrusted,
                r.fixable
            ),
            style,
        )));
    }
    if i.rooms.is_empty() {
        out.push(Line::from("  no rooms"));
    }
    lines(f, area, out);
}

pub fn render(st: &AppState, theme: &Theme, f: &mut Frame, area: Rect) {
    if st.backup.inspecting {
        return render_inspection(st, theme, f, area);
    }
    let b = &st.backup;
    let w = area.width;
    let mut out = vec![];
    let loading = if b.loading {
        format!("  {} refreshing", super::spinner(st))
    } else {
        String::new()
    };
    out.push(Line::from(vec![
        Span::styled(" Key backup (symmetric, MSC3270)", theme.title()),
        Span::styled(loading, theme.dim()),
    ]));
    out.push(Line::from(""));
    let k = |a| st.keys.first(a);
    match &b.status {
        None => out.push(Line::from(Span::styled(
            format!("  {} reading the backup status…", super::spinner(st)),
            theme.dim(),
        ))),
        Some(s) if s.version.is_none() && s.server_version.is_none() => {
            health_rows(&mut out, w, st, theme, &s.health(b.upload.as_ref()));
            row(
                &mut out,
                w,
                "Backup",
                "none on this account",
                theme.fg(theme.warn),
            );
            row(
                &mut out,
                w,
                "Keys",
                format!("{} on this device, not backed up", s.local_sessions),
                theme.fg(theme.warn),
            );
            out.push(Line::from(""));
            out.push(Line::from(format!(
                "  Press {} to create a backup: every key is uploaded, encrypted",
                k(Action::Create)
            )));
            out.push(Line::from(
                "  with a key kept in secret storage (your recovery key opens it).",
            ));
        }
        Some(s) => {
            health_rows(&mut out, w, st, theme, &s.health(b.upload.as_ref()));
            let normal = Style::default();
            let version = match (&s.version, &s.server_version) {
                (Some(v), Some(sv)) if v == sv => v.clone(),
                (Some(v), Some(sv)) => format!("{v} (the server's is now {sv})"),
                (Some(v), None) => format!("{v} (gone from the server)"),
                (None, Some(sv)) => format!("not in use here (the server has {sv})"),
                (None, None) => "none".into(),
            };
            let vstyle = if s.version.is_some() && s.version == s.server_version {
                normal
            } else {
                theme.fg(theme.warn)
            };
            row(&mut out, w, "Version", version, vstyle);
            let algo = s
                .algorithm
                .clone()
                .or(s.server_algorithm.clone())
                .unwrap_or_else(|| "—".into());
            row(&mut out, w, "Algorithm", algo, normal);
            let (key, kstyle) = match (s.key_present, s.key_matches) {
                (false, _) => (
                    format!(
                        "not on this device ({} restore or 3 unlock)",
                        k(Action::Restore)
                    ),
                    theme.fg(theme.warn),
                ),
                (true, Some(true)) => {
                    ("present, matches the backup ✓".into(), theme.fg(theme.good))
                }
                (true, Some(false)) => (
                    "present, does NOT match the backup ✗".into(),
                    theme.fg(theme.bad),
                ),
                (true, None) => ("present (unchecked)".into(), normal),
            };
            row(&mut out, w, "Key", key, kstyle);
            let (local, backed, pending) = match &b.upload {
                Some(p) => (p.local_sessions, p.backed_up, p.pending),
                None => (s.local_sessions, s.backed_up, s.pending),
            };
            let server = s.server_count.map_or("?".to_owned(), |c| c.to_string());
            row(
                &mut out,
                w,
                "Keys",
                format!("local {local} · backed up {backed} · pending {pending} · server {server}"),
                if pending == 0 {
                    normal
                } else {
                    theme.fg(theme.warn)
                },
            );
            let last = s
                .last_upload
                .map_or("never".to_owned(), |t| time::full(t, st.utc_offset));
            row(&mut out, w, "Last upload", last, normal);
            let error = b
                .upload
                .as_ref()
                .and_then(|p| p.last_error.clone())
                .or(s.last_error.clone());
            match &error {
                Some(e) => row(&mut out, w, "Last error", e.clone(), theme.fg(theme.bad)),
                None => row(&mut out, w, "Last error", "none", normal),
            }
        }
    }
    out.push(Line::from(""));
    if let Some(p) = &b.upload {
        let (what, style) = match p.state {
            UploadState::Idle => ("idle, everything is backed up", theme.fg(theme.good)),
            UploadState::Uploading => ("uploading", theme.fg(theme.accent)),
            UploadState::Retrying => ("retrying after an error", theme.fg(theme.warn)),
            UploadState::NoBackup => ("waiting: no backup version", theme.fg(theme.warn)),
            UploadState::NoKey => ("waiting: this device lacks the key", theme.fg(theme.warn)),
            UploadState::Stale => ("stopped: the version changed", theme.fg(theme.bad)),
            UploadState::LoggedOut => ("stopped: logged out, log in again", theme.fg(theme.bad)),
        };
        row(&mut out, w, "Uploader", what, style);
        if matches!(p.state, UploadState::Uploading | UploadState::Retrying) {
            out.push(progress(
                "  Upload",
                p.backed_up,
                p.local_sessions,
                "keys",
                w,
                theme,
            ));
        }
    }
    if b.restoring || b.restore.is_some() {
        match &b.restore {
            Some(p) => {
                out.push(progress(
                    "  Restore",
                    p.keys_done,
                    p.keys_total,
                    "keys",
                    w,
                    theme,
                ));
                out.push(progress(
                    "  Rooms",
                    p.rooms_done,
                    p.rooms_total,
                    "rooms",
                    w,
                    theme,
                ));
            }
            None => out.push(Line::from(Span::styled(
                format!(
                    "  {} restore: unlocking and reading the backup…",
                    super::spinner(st)
                ),
                theme.fg(theme.accent),
            ))),
        }
    }
    if let Some(busy) = b.busy {
        out.push(Line::from(Span::styled(
            format!("  {} {busy}…", super::spinner(st)),
            theme.fg(theme.accent),
        )));
    }
    match &b.message {
        Some(Ok(m)) => out.push(Line::from(Span::styled(
            format!("  {m}"),
            theme.fg(theme.good),
        ))),
        Some(Err(e)) => {
            for l in wrap(e, w.saturating_sub(4) as usize) {
                out.push(Line::from(Span::styled(
                    format!("  {l}"),
                    theme.fg(theme.bad),
                )));
            }
        }
        None => {}
    }
    lines(f, area, out);
}
