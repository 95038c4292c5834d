//! The `fake-tailscaled` binary, as a shell or Node test would drive it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tailscale_localapi::{BackendState, Error, LocalApi};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);

fn spawn(socket: &Path, extra: &[&str], stdin: Stdio) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-tailscaled"))
        .arg("--socket")
        .arg(socket)
        .args(extra)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    timeout(WAIT, lines.next_line())
        .await
        .expect("fake-tailscaled said nothing")
        .unwrap()
        .expect("fake-tailscaled closed stdout")
}

#[tokio::test]
async fn serves_flags_takes_commands_and_exits_on_stdin_eof() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("ts.sock");
    let ca_out = dir.path().join("ca.pem");
    let (mut child, mut lines) = spawn(
        &socket,
        &[
            "--ip",
            "100.64.0.7",
            "--dns-name",
            "box.tail9.ts.net.",
            "--login",
            "carol@example.com",
            "--peer",
            "100.64.0.8=dave@example.com,dave-phone",
            "--peer",
            "100.64.0.9=erin@example.com",
            "--ca-out",
            ca_out.to_str().unwrap(),
            "--exit-on-stdin-eof",
        ],
        Stdio::piped(),
    );
    assert_eq!(
        next_line(&mut lines).await,
        format!("listening on {}", socket.display())
    );
    let ca = std::fs::read_to_string(&ca_out).unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----\n"));

    let api = LocalApi::new_with_socket_path(&socket);
    let status = api.status().await.unwrap();
    assert_eq!(
        status.tailscale_ips,
        vec!["100.64.0.7".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(status.self_status.dnsname, "box.tail9.ts.net.");
    assert_eq!(status.cert_domains, vec!["box.tail9.ts.net".to_owned()]);
    let mut hosts: Vec<_> = status.peer.values().map(|p| p.hostname.clone()).collect();
    hosts.sort();
    assert_eq!(hosts, vec!["dave-phone", "peer-2"]);
    let dave = api.whois("100.64.0.8:443".parse().unwrap()).await.unwrap();
    assert_eq!(dave.user_profile.login_name, "dave@example.com");
    let me = api.whois("100.64.0.7:443".parse().unwrap()).await.unwrap();
    assert_eq!(me.user_profile.login_name, "carol@example.com");
    let (_, chain) = api.certificate_pair("box.tail9.ts.net").await.unwrap();
    assert_eq!(chain.len(), 2);

    let stdin = child.stdin.as_mut().unwrap();
    let mut command = async |line: &str| {
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        next_line(&mut lines).await
    };
    assert_eq!(command("state NeedsLogin").await, "ok");
    assert!(matches!(
        api.status().await.unwrap().backend_state,
        BackendState::NeedsLogin
    ));
    assert_eq!(command("fail-whois on").await, "ok");
    assert!(api.whois("100.64.0.8:1".parse().unwrap()).await.is_err());
    assert_eq!(command("stop").await, "ok");
    assert!(matches!(api.status().await, Err(Error::IoError(_))));
    assert_eq!(command("start").await, "ok");
    assert!(api.status().await.is_ok());
    assert!(command("fail-cert maybe").await.starts_with("error: "));
    assert!(command("frobnicate").await.starts_with("error: "));

    drop(child.stdin.take());
    let exit = timeout(WAIT, child.wait()).await.unwrap().unwrap();
    assert!(exit.success());
    assert!(!socket.exists());
}

#[tokio::test]
async fn exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("ts.sock");
    let (mut child, mut lines) = spawn(&socket, &[], Stdio::null());
    assert!(next_line(&mut lines).await.starts_with("listening on "));
    // Without --exit-on-stdin-eof, a closed stdin is no reason to go.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(child.try_wait().unwrap().is_none());

    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = timeout(WAIT, child.wait()).await.unwrap().unwrap();
    assert!(exit.success());
    assert!(!socket.exists());
}

#[tokio::test]
async fn bad_flags_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_fake-tailscaled"))
        .arg("--socket")
        .arg(dir.path().join("ts.sock"))
        .args(["--peer", "100.64.0.8"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("IP=LOGIN"));
}
