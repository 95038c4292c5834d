//! The host on a tailnet, in real network namespaces made by the test: the host runs in one
//! ("laptop"), a phone in another, joined by a veth pair with tailnet addresses
//! (100.64.0.0/10). A stand-in tailscaled (real LocalAPI paths on a unix socket) says who owns
//! which address and issues the certificate. Clients are curl and openssl, run inside the
//! phone's namespace.
//!
//! Needs root (CAP_NET_ADMIN) for `ip netns`; CI runs as root. Without it the test fails,
//! saying so: it never passes without having run.

mod support;

use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use fake_tailscaled::{FakeTailscaled, TailnetConfig};
use serde_json::Value;
use sha2::{Digest, Sha256};
use support::*;

const LAPTOP_IP: &str = "100.101.7.1";
const PHONE_IP: &str = "100.101.7.2";
/// Another peer on the same tailnet, owned by someone else.
const MALLORY_IP: &str = "100.101.7.3";
/// An address of the laptop outside the tailnet: never bound.
const LAN_IP: &str = "10.77.7.1";
const DNS: &str = "laptop.tail1234.ts.net";

/// Two namespaces and a veth pair, removed on drop.
struct Net {
    laptop: String,
    phone: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip runs");
    assert!(
        out.status.success(),
        "ip {}: {} (the mesh test needs root for network namespaces)",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Net {
    fn new() -> Net {
        let id = std::process::id();
        let net = Net {
            laptop: format!("ab-laptop-{id}"),
            phone: format!("ab-phone-{id}"),
        };
        let (l, p) = (net.laptop.as_str(), net.phone.as_str());
        ip(&["netns", "add", l]);
        ip(&["netns", "add", p]);
        let (vl, vp) = (format!("abl{id}"), format!("abp{id}"));
        ip(&["link", "add", &vl, "type", "veth", "peer", "name", &vp]);
        ip(&["link", "set", &vl, "netns", l]);
        ip(&["link", "set", &vp, "netns", p]);
        for (ns, dev, addrs) in [
            (
                l,
                &vl,
                vec![format!("{LAPTOP_IP}/24"), format!("{LAN_IP}/24")],
            ),
            (
                p,
                &vp,
                vec![
                    format!("{PHONE_IP}/24"),
                    format!("{MALLORY_IP}/24"),
                    "10.77.7.2/24".into(),
                ],
            ),
        ] {
            for a in addrs {
                ip(&["-n", ns, "addr", "add", &a, "dev", dev]);
            }
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        net
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in [&self.laptop, &self.phone] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// A command run inside a namespace.
fn in_ns(ns: &str, program: &str, args: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", ns, program])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ip netns exec runs")
}

/// An HTTPS call from the phone's namespace to the host's tailnet name, trusting only `ca`,
/// from source address `from`: (HTTP status, body), or `None` when no HTTP answer came.
fn phone_https(
    net: &Net,
    port: u16,
    ca: &Path,
    from: &str,
    path: &str,
    key: &str,
) -> Option<(u16, Value)> {
    let url = format!("https://{DNS}:{port}{path}");
    let resolve = format!("{DNS}:{port}:{LAPTOP_IP}");
    let auth = format!("Authorization: Bearer {key}");
    let out = in_ns(
        &net.phone,
        "curl",
        &[
            "-sS",
            "--max-time",
            "10",
            "--cacert",
            ca.to_str().unwrap(),
            "--resolve",
            &resolve,
            "--interface",
            from,
            "-H",
            &auth,
            "-w",
            "\n%{http_code}",
            &url,
        ],
    );
    parse_curl(out)
}

fn parse_curl(out: Output) -> Option<(u16, Value)> {
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n')?;
    Some((
        code.trim().parse().ok()?,
        serde_json::from_str(body).unwrap_or(Value::Null),
    ))
}

/// The SHA-256 of the leaf certificate the host presents to a new connection from the phone.
fn presented_leaf(net: &Net, port: u16) -> Option<String> {
    let connect = format!("{LAPTOP_IP}:{port}");
    let out = in_ns(
        &net.phone,
        "sh",
        &[
            "-c",
            &format!(
                "openssl s_client -connect {connect} -servername {DNS} </dev/null 2>/dev/null \
                 | openssl x509 -outform DER | sha256sum"
            ),
        ],
    );
    let hex = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()?
        .to_owned();
    // sha256sum of empty input: no certificate came.
    (hex != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").then_some(hex)
}

fn sha256_hex(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..100 {
        if let Some(v) = check() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what} did not happen in 20 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_on_the_tailnet_reaches_the_host_over_https_and_only_there() {
    let net = Net::new();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("tailscaled.sock");
    let tailscaled = FakeTailscaled::start(
        &socket,
        TailnetConfig::new(
            &format!("{DNS}."),
            vec![LAPTOP_IP.parse::<IpAddr>().unwrap()],
            "alice@example.com",
        ),
    )
    .await
    .unwrap();
    tailscaled.add_peer(
        PHONE_IP.parse().unwrap(),
        "alice@example.com",
        "alices-phone",
    );
    tailscaled.add_peer(
        MALLORY_IP.parse().unwrap(),
        "mallory@example.com",
        "mallorys-phone",
    );
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, tailscaled.ca_pem()).unwrap();
    // HTTPS is not enabled for the tailnet yet: the host must not serve the tailnet at all.
    tailscaled.fail_cert(true);

    let repo = TestRepo::new();
    let data = dir.path().join("data");
    let claude = fake_claude::FakeClaude::start().await;
    let mut host = start_host_with(
        &repo.path,
        &data,
        &claude,
        &["--mesh-poll-ms", "200", "--cert-refresh-secs", "2"],
        |cmd| {
            let program = cmd.get_program().to_owned();
            let args: Vec<_> = cmd.get_args().map(ToOwned::to_owned).collect();
            let envs: Vec<_> = cmd
                .get_envs()
                .map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned)))
                .collect();
            let mut wrapped = Command::new("ip");
            wrapped
                .args(["netns", "exec", &net.laptop])
                .arg(program)
                .args(args)
                .env("ARCBENCH_TAILSCALE_SOCKET", &socket)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            for (k, v) in envs {
                match v {
                    Some(v) => wrapped.env(k, v),
                    None => wrapped.env_remove(k),
                };
            }
            *cmd = wrapped;
        },
    );
    let port: u16 = host.base.rsplit(':').next().unwrap().parse().unwrap();
    let loopback = |path: &str| -> Option<(u16, Value)> {
        let out = in_ns(
            &net.laptop,
            "curl",
            &[
                "-sS",
                "--max-time",
                "10",
                "-H",
                &format!("Authorization: Bearer {KEY}"),
                "-w",
                "\n%{http_code}",
                &format!("http://127.0.0.1:{port}{path}"),
            ],
        );
        parse_curl(out)
    };

    // 1. Loopback serves; the tailnet does not (no certificate), and /status says why.
    let (code, status) = loopback("/status").expect("loopback answers");
    assert_eq!(code, 200);
    assert_eq!(status["mesh"]["tailscale"], "running");
    assert!(status["mesh"]["https_url"].is_null());
    assert!(
        status["mesh"]["hint"]
            .as_str()
            .unwrap_or_default()
            .contains("HTTPS"),
        "the hint says how to enable certificates: {status}"
    );
    assert!(phone_https(&net, port, &ca, PHONE_IP, "/status", KEY).is_none());

    // 2. HTTPS enabled: the next poll binds the tailnet address with the node's certificate.
    tailscaled.fail_cert(false);
    let (code, status) = eventually("the tailnet listener", || {
        phone_https(&net, port, &ca, PHONE_IP, "/status", KEY)
    })
    .await;
    assert_eq!(code, 200, "{status}");
    assert_eq!(
        status["mesh"]["https_url"],
        format!("https://{DNS}:{port}").as_str()
    );
    assert_eq!(
        presented_leaf(&net, port).as_deref(),
        Some(sha256_hex(&tailscaled.leaf_der(DNS).unwrap()).as_str())
    );

    // 3. Identity: another login on the same tailnet gets 403 even with the right key.
    let (code, body) = phone_https(&net, port, &ca, MALLORY_IP, "/status", KEY).unwrap();
    assert_eq!((code, body["code"].as_str()), (403, Some("forbidden")));
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("mallory@example.com"));
    // A WhoIs that errors refuses too (fail closed), and recovers.
    tailscaled.fail_whois(true);
    let (code, body) = phone_https(&net, port, &ca, PHONE_IP, "/status", KEY).unwrap();
    assert_eq!(code, 403, "{body}");
    tailscaled.fail_whois(false);
    assert_eq!(
        phone_https(&net, port, &ca, PHONE_IP, "/status", KEY)
            .unwrap()
            .0,
        200
    );

    // 4. Plain HTTP on the tailnet address gets no HTTP answer; the LAN address is not bound;
    //    a client trusting other CAs (the system's) refuses the connection.
    let plain = in_ns(
        &net.phone,
        "curl",
        &[
            "-sS",
            "--max-time",
            "5",
            &format!("http://{LAPTOP_IP}:{port}/status"),
        ],
    );
    assert!(parse_curl(plain).is_none(), "plain HTTP on the tailnet");
    let lan = in_ns(
        &net.phone,
        "curl",
        &[
            "-sS",
            "--max-time",
            "5",
            "-k",
            &format!("https://{LAN_IP}:{port}/status"),
        ],
    );
    assert!(parse_curl(lan).is_none(), "the LAN address is not served");
    let untrusted = in_ns(
        &net.phone,
        "curl",
        &[
            "-sS",
            "--max-time",
            "5",
            "--resolve",
            &format!("{DNS}:{port}:{LAPTOP_IP}"),
            &format!("https://{DNS}:{port}/status"),
        ],
    );
    assert!(
        !untrusted.status.success(),
        "only the tailnet CA is trusted"
    );

    // 5. Renewal: a reissued certificate is served to new connections after the refresh.
    let before = sha256_hex(&tailscaled.leaf_der(DNS).unwrap());
    tailscaled.reissue().unwrap();
    let after = sha256_hex(&tailscaled.leaf_der(DNS).unwrap());
    assert_ne!(before, after);
    eventually("the renewed certificate", || {
        presented_leaf(&net, port).filter(|leaf| *leaf == after)
    })
    .await;

    // 6. tailscaled stops mid-run: loopback keeps serving and /status says how to fix it.
    tailscaled.stop();
    let status = eventually("the host noticing tailscaled is gone", || {
        loopback("/status").filter(|(_, s)| s["mesh"]["tailscale"] == "absent")
    })
    .await
    .1;
    assert!(status["mesh"]["hint"]
        .as_str()
        .unwrap()
        .contains("tailscale up"));
    let (_, sessions) = loopback("/sessions").unwrap();
    assert!(sessions["sessions"].is_array());

    host.sigterm();
}
