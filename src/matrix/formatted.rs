//! A message's `formatted_body` (Matrix HTML) as styled lines a terminal
//! can draw: bold, italic, strikethrough, code, quotes, lists, links,
//! mentions and spoilers. Pure; parsed once per event with html5ever (via
//! ruma-html) and sanitized to the spec's elements first, so what the
//! renderer meets is a small, known set.

use ruma_html::{Html, NodeData, NodeRef, SanitizerConfig};

use crate::terminal_text::clean;

/// How a run of text is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub bold: bool,
    pub italic: bool,
    pub strike: bool,
    pub underline: bool,
    pub code: bool,
    pub link: bool,
    pub heading: bool,
    /// A mention of a user (a matrix.to or matrix: link to one); the
    /// run's `link` is the user id.
    pub mention: bool,
    /// Hidden until the message is selected.
    pub spoiler: bool,
}

/// Text in one style. `link` is the target of a link whose text differs
/// from it (cleaned of control characters), or the user a mention names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub style: Style,
    pub link: Option<String>,
}

/// One line of a message: a prefix (quote bars, list markers, the code
/// block bar) and its runs. A long line wraps; its continuation lines get
/// `indent`, the prefix's width in blanks (or bars for quotes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RichLine {
    pub prefix: String,
    pub indent: String,
    pub runs: Vec<Run>,
    /// Inside `<pre>`: drawn as code and never re-flowed.
    pub code_block: bool,
}

impl RichLine {
    pub fn text(&self) -> String {
        self.runs.iter().map(|r| r.text.as_str()).collect()
    }
}

/// The message sanitized to the spec's HTML (what `history --json` prints
/// as `formatted`), and its lines.
pub fn parse(html: &str) -> (String, Vec<RichLine>) {
    let doc = Html::parse(html);
    doc.sanitize_with(&SanitizerConfig::compat().remove_reply_fallback());
    let mut b = Builder::default();
    for child in doc.children() {
        b.walk(&child, Style::default());
    }
    b.finish_line(false);
    while b.lines.last().is_some_and(|l| l.runs.is_empty()) {
        b.lines.pop();
    }
    (doc.to_string(), b.lines)
}

/// The plain text of lines as drawn (spoilers included), for search.
pub fn plain(lines: &[RichLine]) -> String {
    lines
        .iter()
        .map(|l| format!("{}{}", l.prefix, l.text()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The list a list item belongs to: its marker.
#[derive(Debug, Clone, Copy)]
enum List {
    Bullets,
    Numbered(u64),
}

#[derive(Default)]
struct Builder {
    lines: Vec<RichLine>,
    cur: Vec<Run>,
    quote: usize,
    lists: Vec<List>,
    /// The marker of a list item whose first line is not started yet.
    marker: Option<String>,
    pre: bool,
    /// The current table row has a cell already.
    cell: bool,
    /// The next text starts a run of its own.
    fresh: bool,
}

impl Builder {
    fn walk(&mut self, node: &NodeRef, style: Style) {
        let el = match node.data() {
            NodeData::Text(t) => return self.text(&t.borrow(), style),
            NodeData::Element(el) => el,
            NodeData::Document | NodeData::Other => return self.children(node, style),
        };
        let attr = |name: &str| {
            el.attrs
                .borrow()
                .iter()
                .find(|a| &*a.name.local == name)
                .map(|a| a.value.to_string())
        };
        let with = |f: fn(&mut Style)| {
            let mut s = style;
            f(&mut s);
            s
        };
        match &*el.name.local {
            "b" | "strong" => self.children(node, with(|s| s.bold = true)),
            "i" | "em" => self.children(node, with(|s| s.italic = true)),
            "s" | "del" | "strike" => self.children(node, with(|s| s.strike = true)),
            "u" | "ins" => self.children(node, with(|s| s.underline = true)),
            "code" => self.children(node, with(|s| s.code = true)),
            "pre" => {
                self.finish_line(false);
                self.pre = true;
                self.children(node, with(|s| s.code = true));
                self.finish_line(false);
                self.pre = false;
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.finish_line(false);
                self.children(
                    node,
                    with(|s| {
                        s.bold = true;
                        s.heading = true;
                    }),
                );
                self.finish_line(false);
            }
            "p" | "div" | "details" | "summary" | "caption" => {
                self.finish_line(false);
                self.children(node, style);
                self.finish_line(false);
            }
            "br" => self.finish_line(true),
            "hr" => {
                self.finish_line(false);
                self.push("────────", style);
                self.finish_line(false);
            }
            "blockquote" => {
                self.finish_line(false);
                self.quote += 1;
                self.children(node, style);
                self.finish_line(false);
                self.quote -= 1;
            }
            "ul" | "ol" => {
                self.finish_line(false);
                let list = if &*el.name.local == "ol" {
                    let start = attr("start").and_then(|s| s.parse().ok()).unwrap_or(1);
                    List::Numbered(start)
                } else {
                    List::Bullets
                };
                self.lists.push(list);
                self.children(node, style);
                self.lists.pop();
                self.finish_line(false);
            }
            "li" => {
                self.finish_line(false);
                let marker = match self.lists.last_mut() {
                    Some(List::Numbered(n)) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => "• ".to_owned(),
                };
                self.marker = Some(marker);
                self.children(node, style);
                self.finish_line(false);
                self.marker = None;
            }
            "tr" => {
                self.finish_line(false);
                self.cell = false;
                self.children(node, style);
                self.finish_line(false);
            }
            "td" | "th" => {
                if self.cell {
                    self.push(" │ ", Style::default());
                }
                self.cell = true;
                let s = if &*el.name.local == "th" {
                    with(|s| s.bold = true)
                } else {
                    style
                };
                self.children(node, s);
            }
            "a" => {
                let href = attr("href").unwrap_or_default();
                let user = mentioned_user(&href);
                let s = match user {
                    Some(_) => with(|s| s.mention = true),
                    None => with(|s| s.link = true),
                };
                // Runs of this link start afresh (never merged into the text
                // before it), so they can carry its target.
                self.fresh = true;
                let (line, mut start) = (self.lines.len(), self.cur.len());
                self.children(node, s);
                self.fresh = false;
                if self.lines.len() != line {
                    // A break inside the link: its runs on this line.
                    start = 0;
                }
                let start = start.min(self.cur.len());
                let text: String = self.cur[start..].iter().map(|r| r.text.as_str()).collect();
                let href = clean(&href).into_owned();
                let target = match user {
                    Some(u) => Some(clean(&u).into_owned()),
                    None if !href.is_empty() && text.trim() != href => Some(href),
                    None => None,
                };
                for r in &mut self.cur[start..] {
                    r.link.clone_from(&target);
                }
            }
            "span" => {
                let s = if attr("data-mx-spoiler").is_some() {
                    with(|s| s.spoiler = true)
                } else {
                    style
                };
                self.children(node, s);
            }
            "img" => {
                let alt = attr("alt").or_else(|| attr("title")).unwrap_or_default();
                let text = if alt.is_empty() {
                    "[image]".to_owned()
                } else {
                    format!("[image: {alt}]")
                };
                self.push(&text, style);
            }
            "mx-reply" | "script" | "style" => {}
            _ => self.children(node, style),
        }
    }

    fn children(&mut self, node: &NodeRef, style: Style) {
        for child in node.children() {
            self.walk(&child, style);
        }
    }

    /// A text node: whitespace collapses as in a browser, except in `<pre>`
    /// where lines are kept as written.
    fn text(&mut self, t: &str, style: Style) {
        let t = clean(t);
        if self.pre {
            let mut parts = t.split('\n').peekable();
            while let Some(part) = parts.next() {
                if !part.is_empty() {
                    self.push(&part.replace('\t', "    "), style);
                }
                if parts.peek().is_some() {
                    self.finish_line(true);
                }
            }
            return;
        }
        let mut out = String::new();
        let mut space = self.cur.last().is_none_or(|r| r.text.ends_with(' '));
        for c in t.chars() {
            if c.is_whitespace() {
                if !space {
                    out.push(' ');
                    space = true;
                }
            } else {
                out.push(c);
                space = false;
            }
        }
        if !out.is_empty() {
            self.push(&out, style);
        }
    }

    fn push(&mut self, text: &str, style: Style) {
        let fresh = std::mem::take(&mut self.fresh);
        match self.cur.last_mut() {
            Some(r) if !fresh && r.style == style && r.link.is_none() => r.text.push_str(text),
            _ => self.cur.push(Run {
                text: text.to_owned(),
                style,
                link: None,
            }),
        }
    }

    /// Ends the current line. `forced` (a `<br>`, a newline in `<pre>`)
    /// ends it even when empty, which keeps blank lines the sender wrote.
    fn finish_line(&mut self, forced: bool) {
        if self.cur.is_empty() && !forced {
            return;
        }
        let mut runs = std::mem::take(&mut self.cur);
        if !self.pre {
            if let Some(last) = runs.last_mut() {
                let kept = last.text.trim_end().len();
                last.text.truncate(kept);
            }
            runs.retain(|r| !r.text.is_empty());
        }
        let bars = "▎ ".repeat(self.quote);
        let depth = self.lists.len().saturating_sub(1);
        let list_pad = "  ".repeat(depth);
        let marker = self.marker.take();
        let code = if self.pre { "│ " } else { "" };
        let (prefix, indent) = match &marker {
            Some(m) => (
                format!("{bars}{list_pad}{m}{code}"),
                format!("{bars}{list_pad}{}{code}", " ".repeat(m.chars().count())),
            ),
            None if !self.lists.is_empty() => {
                // A later line of a list item lines up under its text.
                let pad = format!("{bars}{list_pad}  {code}");
                (pad.clone(), pad)
            }
            None => (format!("{bars}{code}"), format!("{bars}{code}")),
        };
        self.lines.push(RichLine {
            prefix,
            indent,
            runs,
            code_block: self.pre,
        });
    }
}

/// The user a link points at, for `https://matrix.to/#/@user:server` and
/// `matrix:u/user:server` links.
fn mentioned_user(href: &str) -> Option<String> {
    let target = if let Some(rest) = href.strip_prefix("https://matrix.to/#/") {
        decode(rest.split('?').next().unwrap_or(rest))
    } else if let Some(rest) = href.strip_prefix("matrix:u/") {
        format!("@{}", decode(rest.split('?').next().unwrap_or(rest)))
    } else {
        return None;
    };
    (target.starts_with('@') && target.contains(':')).then_some(target)
}

/// The percent escapes a user id can carry in a link.
fn decode(s: &str) -> String {
    s.replace("%40", "@")
        .replace("%3A", ":")
        .replace("%3a", ":")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(html: &str) -> Vec<String> {
        parse(html)
            .1
            .iter()
            .map(|l| format!("{}{}", l.prefix, l.text()))
            .collect()
    }

    fn runs(html: &str) -> Vec<Run> {
        parse(html).1.into_iter().flat_map(|l| l.runs).collect()
    }

    #[test]
    fn inline_styles_become_runs_without_tags() {
        let r = runs("a <strong>bold</strong> and <em>it</em> <del>gone</del> <code>x()</code>");
        let text: String = r.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(text, "a bold and it gone x()");
        let bold = r.iter().find(|r| r.text == "bold").map(|r| r.style);
        assert!(bold.is_some_and(|s| s.bold && !s.italic));
        assert!(r.iter().any(|r| r.text == "it" && r.style.italic));
        assert!(r.iter().any(|r| r.text == "gone" && r.style.strike));
        assert!(r.iter().any(|r| r.text == "x()" && r.style.code));
    }

    #[test]
    fn blocks_lists_quotes_and_code_keep_their_shape() {
        assert_eq!(
            lines("<p>one</p>\n<p>two<br>three</p>"),
            vec!["one", "two", "three"]
        );
        assert_eq!(
            lines("<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<ol start=\"3\"><li>c</li><li>d</li></ol>"),
            vec!["• a", "• b", "3. c", "4. d"]
        );
        assert_eq!(
            lines("<blockquote>\n<p>quoted</p>\n</blockquote>\n<p>reply</p>"),
            vec!["▎ quoted", "reply"]
        );
        assert_eq!(
            lines("<pre><code class=\"language-rust\">fn main() {\n    x();\n}\n</code></pre>"),
            vec!["│ fn main() {", "│     x();", "│ }"]
        );
        assert_eq!(
            lines("<ul><li>a<ul><li>b</li></ul></li></ul>"),
            vec!["• a", "  • b"]
        );
    }

    #[test]
    fn links_and_mentions() {
        let r = runs(
            "see <a href=\"https://example.org/x\">the docs</a> or \
             <a href=\"https://example.org/\">https://example.org/</a>, \
             <a href=\"https://matrix.to/#/@bob:x\">Bob</a> \
             <a href=\"https://matrix.to/#/%40me%3Ax\">Me</a>",
        );
        let docs = r.iter().find(|r| r.text == "the docs");
        assert!(docs.is_some_and(|r| r.style.link));
        assert_eq!(
            docs.and_then(|r| r.link.as_deref()),
            Some("https://example.org/x")
        );
        // A link that shows its own address carries no second copy.
        let bare = r.iter().find(|r| r.text == "https://example.org/");
        assert!(bare.is_some_and(|r| r.link.is_none()));
        let bob = r.iter().find(|r| r.text == "Bob");
        assert!(bob.is_some_and(|r| r.style.mention && !r.style.link));
        assert_eq!(bob.and_then(|r| r.link.as_deref()), Some("@bob:x"));
        let me = r.iter().find(|r| r.text == "Me");
        assert_eq!(me.and_then(|r| r.link.as_deref()), Some("@me:x"));
    }

    #[test]
    fn spoilers_are_marked_and_scripts_are_gone() {
        let r = runs("x <span data-mx-spoiler=\"\">secret</span><script>alert(1)</script>");
        assert!(r.iter().any(|r| r.text == "secret" && r.style.spoiler));
        let (html, _) = parse("<script>alert(1)</script><b>ok</b>");
        assert!(!html.contains("script"), "{html}");
        assert!(html.contains("<b>ok</b>"), "{html}");
    }

    #[test]
    fn reply_fallbacks_and_control_characters_never_show() {
        let l = lines("<mx-reply><blockquote>old</blockquote></mx-reply>new \u{1b}[31mred");
        assert_eq!(l, vec!["new \u{fffd}[31mred"]);
    }
}
