//! Demo mode: a local stand-in answers instead of the Claude API, so a newcomer without a key sees
//! the whole loop — real Aider, real git, real hunks. Every answer says it is a demo, and so do
//! `/status` and the UI. This is the only place the stand-in is linked into the product.

use fake_claude::{FakeClaude, RecordedRequest, Reply, TextReply, Usage};

pub const BANNER: &str = "[ArcBench demo mode: scripted answer, no Claude API call was made]";

/// Starts the stand-in with the demo script.
pub async fn start() -> std::io::Result<FakeClaude> {
    FakeClaude::builder().responder(answer).start().await
}

/// The script: Aider's weak-model calls (history summaries) get a plain summary; every prompt
/// gets an edit that adds a note file under `arcbench-demo/`, so there is a real hunk to review.
fn answer(req: &RecordedRequest) -> Reply {
    let full = req.last_user_text();
    // Aider appends its edit-format reminder to the user's message; quote only what they wrote.
    let prompt = full
        .split("\n\n# *SEARCH/REPLACE")
        .next()
        .unwrap_or(&full)
        .trim()
        .to_owned();
    if !req.stream {
        return TextReply::new(format!(
            "{BANNER} The user asked for changes; a demo note was written."
        ))
        .usage(Usage::exact(400, 30, 0, 0))
        .into();
    }
    let slug: String = prompt
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect::<String>()
        .split_whitespace()
        .take(6)
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase();
    let slug = if slug.is_empty() {
        "note".to_owned()
    } else {
        slug
    };
    let quoted: String = prompt.lines().map(|l| format!("> {l}\n")).collect();
    let body = format!(
        "{BANNER}\n\nIn demo mode I write a note instead of editing your code, so you can try the review \
         loop: approve or reject the hunk, apply it, undo it.\n\narcbench-demo/{slug}.md\n```\n<<<<<<< SEARCH\n=======\n\
         # Demo change\n\nYou asked:\n\n{quoted}\nWith a real Claude API key, Aider would edit your code here.\n\
         >>>>>>> REPLACE\n```\n"
    );
    TextReply::new(body)
        .chunk_chars(24)
        .usage(Usage::exact(2400, 180, 0, 0))
        .into()
}
