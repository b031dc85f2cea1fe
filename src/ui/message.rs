//! One message as lines: time, trust mark and sender, then its body
//! (formatted text drawn with its styles, an attachment line, an emote or a
//! notice), what it replies to, its reactions and its thread.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::timeline::{device_note, mark, short};
use super::widgets::{str_width, truncate, wrap_tagged};
use crate::app::OpenRoom;
use crate::app::time;
use crate::matrix::content::{Kind, human_size};
use crate::matrix::formatted::{self, RichLine};
use crate::matrix::history::{HistoryItem, Trust};
use crate::ui::preview::Preview;

/// Columns before the sender: "12:34 " and the mark.
pub const INDENT: usize = 9;

/// One line of a message body before wrapping: what starts it, what
/// continues it when it wraps, and its styled text.
struct Para {
    prefix: (String, Style),
    indent: String,
    /// Text, style, and the target when it is a link.
    pieces: Vec<(String, Style, Option<String>)>,
}

impl Para {
    fn plain(text: String, style: Style) -> Para {
        Para {
            prefix: (String::new(), style),
            indent: String::new(),
            pieces: vec![(text, style, None)],
        }
    }
}

/// A link drawn in a message: its line in the block, column and width.
pub struct LinkSpot {
    pub line: usize,
    pub col: u16,
    pub width: u16,
    pub url: String,
}

/// What a message shows to this account.
pub struct View<'a> {
    pub me: Option<&'a str>,
    pub offset: i32,
    pub selected: bool,
    pub previews: &'a std::collections::HashMap<String, crate::app::PreviewState>,
}

/// A message's lines, and where its image preview goes: the first of the
/// blank lines kept for it, its column, and the preview.
pub struct Block {
    pub lines: Vec<Line<'static>>,
    pub image: Option<(usize, u16, Preview)>,
    pub links: Vec<LinkSpot>,
}

/// The lines of one message.
pub fn lines(r: &OpenRoom, i: &HistoryItem, width: usize, view: &View<'_>, theme: &Theme) -> Block {
    let base = if view.selected {
        theme.selected()
    } else {
        Style::default()
    };
    let (m, mc) = mark(i.trust, theme);
    let sender = short(&i.sender).to_owned();
    let mut out = vec![];
    if let Some(to) = &i.in_reply_to {
        let quoted = r
            .items
            .iter()
            .find(|x| x.event_id.as_deref() == Some(to.as_str()));
        let text = match quoted {
            Some(q) => format!(
                "↳ {}: {}",
                short(&q.sender),
                q.body.as_deref().unwrap_or("…").replace('\n', " ")
            ),
            None => "↳ in reply to an earlier message".to_owned(),
        };
        out.push(Line::from(vec![
            Span::styled(" ".repeat(INDENT), base),
            Span::styled(
                truncate(&text, width.saturating_sub(INDENT)),
                base.fg(theme.dim),
            ),
        ]));
    }
    let mut paras = body(i, base, view, theme);
    if let Some((text, style)) = suffix(i, base, theme)
        && let Some(last) = paras.last_mut()
    {
        last.pieces.push((text, style, None));
    }
    let head = format!("{} ", time::hm(i.ts, view.offset));
    let sender_w = str_width(&sender) + 2;
    let body_w = width.saturating_sub(INDENT + sender_w).max(8);
    let pad = " ".repeat(INDENT + sender_w);
    let mut first = true;
    let mut image = None;
    let mut links = vec![];
    let preview = match i.event_id.as_ref().and_then(|e| view.previews.get(e)) {
        Some(crate::app::PreviewState::Ready(p)) if i.kind == Kind::Image && !i.redacted => Some(p),
        _ => None,
    };
    for (n, p) in paras.into_iter().enumerate() {
        let prefix_w = str_width(&p.prefix.0);
        let wrapped = wrap_tagged(&p.pieces, body_w.saturating_sub(prefix_w).max(4));
        for (k, pieces) in wrapped.into_iter().enumerate() {
            let mut spans = if first {
                first = false;
                vec![
                    Span::styled(head.clone(), base.fg(theme.dim)),
                    Span::styled(m.to_owned(), base.fg(mc)),
                    Span::raw(" "),
                    Span::styled(
                        sender.clone(),
                        base.fg(theme.accent).add_modifier(Modifier::BOLD),
                    ),
                    Span::styled(": ", base),
                ]
            } else {
                vec![Span::styled(pad.clone(), base)]
            };
            if k == 0 {
                if !p.prefix.0.is_empty() {
                    spans.push(Span::styled(p.prefix.0.clone(), p.prefix.1));
                }
            } else if !p.indent.is_empty() {
                spans.push(Span::styled(p.indent.clone(), p.prefix.1));
            }
            let mut col: usize = spans.iter().map(|s| str_width(&s.content)).sum();
            for (t, s, link) in pieces {
                let w = str_width(&t);
                if let Some(url) = link {
                    links.push(LinkSpot {
                        line: out.len(),
                        col: col as u16,
                        width: w as u16,
                        url,
                    });
                }
                col += w;
                spans.push(Span::styled(t, s));
            }
            out.push(Line::from(spans));
        }
        // The preview goes under the attachment line (the first).
        if n == 0
            && let Some(p) = preview
            && width > INDENT + sender_w + 4
        {
            image = Some((out.len(), (INDENT + sender_w) as u16, p.clone()));
            for _ in 0..p.rows {
                out.push(Line::from(Span::styled(pad.clone(), base)));
            }
        }
    }
    if !i.reactions.is_empty() {
        let mut spans = vec![Span::styled(pad.clone(), base)];
        for r in &i.reactions {
            spans.push(Span::styled(format!("{} {}  ", r.key, r.count), base));
        }
        out.push(Line::from(spans));
    }
    // The root of the thread shown does not point at itself.
    let shown_root = r.thread.is_some() && r.thread == i.event_id;
    if i.thread_replies > 0 && !shown_root {
        let s = if i.thread_replies == 1 { "y" } else { "ies" };
        let hint = if view.selected {
            " · t opens the thread"
        } else {
            ""
        };
        out.push(Line::from(vec![
            Span::styled(pad.clone(), base),
            Span::styled(
                format!("⤷ {} repl{s}{hint}", i.thread_replies),
                base.fg(theme.accent),
            ),
        ]));
    }
    if let Some(readers) = readers(i, view.me) {
        out.push(Line::from(vec![
            Span::styled(pad, base),
            Span::styled(
                truncate(&readers, width.saturating_sub(INDENT + sender_w)),
                base.fg(theme.dim),
            ),
        ]));
    }
    Block {
        lines: out,
        image,
        links,
    }
}

/// "read by bob, carol +2": who read up to this message and no further
/// (this account left out); `None` when nobody.
fn readers(i: &HistoryItem, me: Option<&str>) -> Option<String> {
    let names: Vec<&str> = i
        .read_by
        .iter()
        .filter(|u| Some(u.as_str()) != me)
        .map(|u| short(u))
        .collect();
    if names.is_empty() {
        return None;
    }
    const SHOWN: usize = 3;
    let more = names.len().saturating_sub(SHOWN);
    let mut text = format!("✓ read by {}", names[..names.len().min(SHOWN)].join(", "));
    if more > 0 {
        text.push_str(&format!(" +{more}"));
    }
    Some(text)
}

/// "bob is typing…", "bob and carol are typing…", "4 people are typing…".
pub fn typing(users: &[String]) -> Option<String> {
    let names: Vec<&str> = users.iter().map(|u| short(u)).collect();
    match names.as_slice() {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [a, b] => Some(format!("{a} and {b} are typing…")),
        [a, b, c] => Some(format!("{a}, {b} and {c} are typing…")),
        more => Some(format!("{} people are typing…", more.len())),
    }
}

/// The body: deleted, undecryptable, an attachment, formatted or plain
/// text, with emotes and notices in their own style.
fn body(i: &HistoryItem, base: Style, view: &View<'_>, theme: &Theme) -> Vec<Para> {
    if i.redacted {
        return vec![Para::plain(
            "(message deleted)".into(),
            base.fg(theme.dim).add_modifier(Modifier::ITALIC),
        )];
    }
    if i.body.is_none() && i.utd_reason.is_some() {
        let why = i
            .utd_hint
            .as_deref()
            .or(i.utd_reason.as_deref())
            .unwrap_or("unknown reason");
        return vec![Para::plain(
            format!("unable to decrypt: {why} (f: fetch from backup)"),
            base.fg(theme.bad),
        )];
    }
    let text_style = match i.kind {
        Kind::Notice => base.fg(theme.dim),
        Kind::Emote => base.add_modifier(Modifier::ITALIC),
        _ => base,
    };
    let mut paras = vec![];
    if let Some(a) = &i.attachment {
        let label = match i.kind {
            Kind::Image => "image",
            Kind::Video => "video",
            Kind::Audio => "audio",
            Kind::Sticker => "sticker",
            _ => "file",
        };
        let mut facts = vec![];
        if let Some(mt) = &a.mimetype {
            facts.push(mt.clone());
        }
        if let Some(n) = a.size {
            facts.push(human_size(n));
        }
        let facts = if facts.is_empty() {
            String::new()
        } else {
            format!(" ({})", facts.join(", "))
        };
        let mut pieces = vec![
            (format!("[{label}] "), base.fg(theme.accent), None),
            (a.name.clone(), base.add_modifier(Modifier::BOLD), None),
            (facts, base.fg(theme.dim), None),
        ];
        if view.selected {
            pieces.push((" · d saves, o opens".into(), base.fg(theme.dim), None));
        }
        paras.push(Para {
            prefix: (String::new(), base),
            indent: String::new(),
            pieces,
        });
        // A caption, when the body says more than the file's name.
        match i.body.as_deref() {
            Some(b) if b != a.name && !b.is_empty() => {}
            _ => return paras,
        }
    }
    let emote = i.kind == Kind::Emote;
    if !i.rich.is_empty() {
        for (k, l) in i.rich.iter().enumerate() {
            let mut p = rich_para(l, text_style, view, theme);
            if emote && k == 0 {
                p.pieces
                    .insert(0, (format!("* {} ", short(&i.sender)), text_style, None));
            }
            paras.push(p);
        }
        return paras;
    }
    let text = i.body.as_deref().unwrap_or_default();
    for (k, l) in text.split('\n').enumerate() {
        let l = if emote && k == 0 {
            format!("* {} {l}", short(&i.sender))
        } else {
            l.to_owned()
        };
        paras.push(Para::plain(l, text_style));
    }
    paras
}

/// One formatted line in terminal styles.
fn rich_para(l: &RichLine, base: Style, view: &View<'_>, theme: &Theme) -> Para {
    let bar = base.fg(theme.dim);
    let pieces = l
        .runs
        .iter()
        .map(|r| {
            let s = r.style;
            let mut st = base;
            if s.bold {
                st = st.add_modifier(Modifier::BOLD);
            }
            if s.italic {
                st = st.add_modifier(Modifier::ITALIC);
            }
            if s.strike {
                st = st.add_modifier(Modifier::CROSSED_OUT);
            }
            if s.underline || s.link || s.heading {
                st = st.add_modifier(Modifier::UNDERLINED);
            }
            if s.link {
                st = st.fg(theme.accent);
            }
            if s.code || l.code_block {
                st = st.fg(theme.warn);
            }
            if s.mention {
                let me = r.link.is_some() && r.link.as_deref() == view.me;
                st = if me {
                    st.fg(theme.bad)
                        .add_modifier(Modifier::BOLD | Modifier::REVERSED)
                } else {
                    st.fg(theme.accent).add_modifier(Modifier::BOLD)
                };
            }
            if s.spoiler && !view.selected {
                // Hidden until the message is selected: same width, no text.
                return ("░".repeat(str_width(&r.text)), base.fg(theme.dim), None);
            }
            // A link's target: the one it names, or its own text.
            let link = s
                .link
                .then(|| r.link.clone().unwrap_or_else(|| r.text.clone()));
            (r.text.clone(), st, link)
        })
        .collect();
    Para {
        prefix: (l.prefix.clone(), bar),
        indent: l.indent.clone(),
        pieces,
    }
}

/// What follows the body in its own colour: why a key is not trusted, a
/// warning, or "(edited)".
fn suffix(i: &HistoryItem, base: Style, theme: &Theme) -> Option<(String, Style)> {
    if i.redacted || i.body.is_none() {
        return None;
    }
    let unverified_device = device_note(i) == Some("sender's device not verified");
    match (i.trust, i.edited) {
        (Trust::BackupUntrusted, _) => Some((
            format!(
                " (untrusted: {}{})",
                i.trust_reason
                    .as_deref()
                    .unwrap_or("unauthenticated source"),
                if unverified_device {
                    "; sender's device not verified"
                } else {
                    ""
                }
            ),
            base.fg(theme.warn),
        )),
        (Trust::Warning, _) => Some((
            format!(
                " (warning: {})",
                i.trust_reason.as_deref().unwrap_or("the SDK flags it")
            ),
            base.fg(theme.bad),
        )),
        (Trust::BackupTrusted, _) if unverified_device => Some((
            " (sender's device not verified)".into(),
            base.fg(theme.warn),
        )),
        (_, true) => Some((" (edited)".into(), base.fg(theme.dim))),
        _ => None,
    }
}

/// The links of a message, for its detail line.
pub fn links(i: &HistoryItem) -> Vec<String> {
    let mut out: Vec<String> = i
        .rich
        .iter()
        .flat_map(|l| &l.runs)
        .filter(|r| r.style.link)
        .map(|r| r.link.clone().unwrap_or_else(|| r.text.clone()))
        .collect();
    out.dedup();
    out
}

/// A message's text as drawn (for search): formatted when it is.
pub fn text(i: &HistoryItem) -> String {
    if i.rich.is_empty() {
        i.body.clone().unwrap_or_default()
    } else {
        formatted::plain(&i.rich)
    }
}
