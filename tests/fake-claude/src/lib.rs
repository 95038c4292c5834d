//! Local stand-in for the Anthropic Messages API (filled in by issue 3).
