//! The TypeScript bindings in `src-ui/src/lib/bindings.ts` are generated from these types.
//! This test fails when the committed file is stale; `UPDATE_BINDINGS=1` rewrites it.

use std::path::PathBuf;

use shared_protocol::*;
use specta::Types;
use specta_typescript::Typescript;

fn types() -> Types {
    Types::default()
        .register::<ApiError>()
        .register::<Status>()
        .register::<Session>()
        .register::<SessionDetail>()
        .register::<SessionsResponse>()
        .register::<SessionSnapshot>()
        .register::<CreateSessionRequest>()
        .register::<DeletedResponse>()
        .register::<Diff>()
        .register::<HunkIdsRequest>()
        .register::<ApplyRequest>()
        .register::<CommitResponse>()
        .register::<SubmitPromptRequest>()
        .register::<PromptsResponse>()
        .register::<CancelResponse>()
        .register::<UsageResponse>()
        .register::<Budget>()
        .register::<Event>()
        .register::<EventsResponse>()
        .register::<CommentRequest>()
        .register::<NoteResponse>()
        .register::<RevisionPreview>()
        .register::<ReviseRequest>()
        .register::<HistoryResponse>()
        .register::<DevicesResponse>()
        .register::<PairRequest>()
        .register::<PairResponse>()
        .register::<PairingCode>()
        .register::<PushKey>()
        .register::<PushSubscriptionRequest>()
        .register::<PushSubscriptionInfo>()
        .register::<PushDeleted>()
        .register::<Transcript>()
        .register::<SpeechRequest>()
}

fn generated() -> String {
    Typescript::default()
        .header(
            "// Generated from the Rust wire types in shared-protocol/. Do not edit by hand:\n\
             // UPDATE_BINDINGS=1 cargo test -p shared-protocol --test bindings\n",
        )
        .export(&types(), specta_serde::Format)
        .expect("wire types export to TypeScript")
}

#[test]
fn typescript_bindings_are_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../src-ui/src/lib/bindings.ts");
    let fresh = generated();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: run `UPDATE_BINDINGS=1 cargo test -p shared-protocol --test bindings`",
        path.display()
    );
}
