//! `fake-push`: the stand-in push service as a process, for end-to-end tests written in another
//! language (the browser e2e). Prints `listening on BASE` first, then one line per push it
//! receives: `received JSON` ({subscription, plaintext, payload, vapid_key, contact, ttl}) or `refused WHY`.
//! Reads commands from standard input, one per line: `subscribe` is answered by
//! `subscription JSON` ({id, endpoint, keys: {p256dh, auth}}: what `PushSubscription.toJSON()`
//! gives a page); `answer ID STATUS` makes that subscription answer STATUS (404/410: gone).
//! Exits when standard input closes or on SIGTERM.

use fake_push::FakePush;
use tokio::io::AsyncBufReadExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let push = FakePush::start().await;
    println!("listening on {}", push.base());
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let (mut received, mut refused) = (0, 0);
    loop {
        for r in push.received().into_iter().skip(received) {
            let line = serde_json::json!({
                "subscription": r.subscription,
                "plaintext": r.plaintext,
                "payload": r.payload,
                "vapid_key": r.vapid_key,
                "contact": r.contact,
                "ttl": r.ttl,
            });
            println!("received {line}");
            received += 1;
        }
        for why in push.refused().into_iter().skip(refused) {
            println!("refused {}", why.replace('\n', " "));
            refused += 1;
        }
        let line = tokio::select! {
            line = lines.next_line() => line,
            _ = terminate.recv() => break,
            _ = push.changed() => continue,
        };
        let Ok(Some(line)) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["subscribe"] => {
                let s = push.subscribe();
                let json = serde_json::json!({
                    "id": s.id,
                    "endpoint": s.endpoint,
                    "keys": {"p256dh": s.p256dh, "auth": s.auth},
                });
                println!("subscription {json}");
            }
            ["answer", id, status] => match status.parse::<u16>() {
                Ok(code) => {
                    push.answer(id, code);
                    println!("answering {id} {code}");
                }
                Err(_) => println!("error bad status {status:?}"),
            },
            _ => println!("error unknown command {line:?}"),
        }
    }
    // Out now: returning would drop the runtime, which waits for its blocking stdin reader, and
    // that read ends only when the harness closes our stdin, which it may do only after we exit.
    std::process::exit(0)
}
