//! `bridge/protocol.schema.json` is generated from the Rust protocol types; the bridge's Python
//! tests validate every line against it. This test fails when the committed file is stale;
//! `UPDATE_SCHEMA=1` rewrites it.

use std::path::PathBuf;

#[test]
fn the_committed_protocol_schema_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bridge/protocol.schema.json");
    let fresh = arcbench_agent::aider::protocol::schema_json();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: run UPDATE_SCHEMA=1 cargo test -p arcbench-agent --test protocol_schema",
        path.display()
    );
}
