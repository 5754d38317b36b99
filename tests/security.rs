//! SASL against the real binary: a PLAINTEXT and a SASL_PLAINTEXT listener side by side,
//! SaslHandshake v0-1 and SaslAuthenticate v0-2 (kafka-protocol encodes and decodes them),
//! PLAIN users from the listener's JAAS config, SCRAM-SHA-256/512 users from `--add-scram`
//! and from AlterUserScramCredentials, what is refused before authentication, failures that
//! close the connection, and KIP-368 session lifetimes. The SCRAM client side uses the
//! crate's own HMAC and PBKDF2, which `security::tests` checks against the RFCs' vectors.

mod common;

use std::ffi::OsString;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, DescribeUserScramCredentialsRequest, MetadataRequest,
    SaslAuthenticateRequest, SaslHandshakeRequest,
};
use kafka_protocol::protocol::StrBytes;
use minikafka::security::base64;
use minikafka::security::scram::Mechanism;

const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
const ILLEGAL_SASL_STATE: i16 = 34;
const SASL_AUTHENTICATION_FAILED: i16 = 58;
const RESOURCE_NOT_FOUND: i16 = 91;
const DUPLICATE_RESOURCE: i16 = 92;
const UNACCEPTABLE_CREDENTIAL: i16 = 93;

const JAAS: &str = "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.\
                    security.plain.PlainLoginModule required username=\"admin\" \
                    password=\"admin-secret\" user_admin=\"admin-secret\" user_carol=\"c-pw\";";

struct Secured {
    broker: Broker,
    sasl: SocketAddr,
}

fn start(dir: &std::path::Path, extra: &[&str]) -> Secured {
    let mut args: Vec<OsString> = Vec::new();
    let o = |args: &mut Vec<OsString>, kv: &str| {
        args.push("--override".into());
        args.push(kv.into());
    };
    o(&mut args, "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0");
    o(&mut args, &format!("log.dirs={}", dir.display()));
    o(&mut args, "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512");
    o(&mut args, JAAS);
    for e in extra {
        if let Some(spec) = e.strip_prefix("--add-scram ") {
            args.push("--add-scram".into());
            args.push(spec.into());
        } else {
            o(&mut args, e);
        }
    }
    let broker = Broker::start_args(args);
    let sasl = broker.listener_addr("SASL_PLAINTEXT");
    Secured { broker, sasl }
}

fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

fn handshake(c: &mut Client, v: i16, mechanism: &str) -> (i16, Vec<String>) {
    let r = c.kp_call(v, &SaslHandshakeRequest::default().with_mechanism(sb(mechanism)));
    (r.error_code, r.mechanisms.iter().map(|m| m.to_string()).collect())
}

fn authenticate(c: &mut Client, v: i16, token: &[u8]) -> (i16, Option<String>, Vec<u8>, i64) {
    let r =
        c.kp_call(v, &SaslAuthenticateRequest::default().with_auth_bytes(token.to_vec().into()));
    (
        r.error_code,
        r.error_message.map(|m| m.to_string()),
        r.auth_bytes.to_vec(),
        r.session_lifetime_ms,
    )
}

fn plain_token(user: &str, password: &str) -> Vec<u8> {
    format!("\0{user}\0{password}").into_bytes()
}

/// The advertised port Metadata v12 names: the listener the client came by.
fn metadata_port(c: &mut Client) -> i32 {
    c.kp_call(12, &MetadataRequest::default()).brokers[0].port
}

/// A SCRAM client: (client-first, then a function of the server-first giving client-final
/// and the expected server signature).
struct ScramClient {
    mechanism: Mechanism,
    user: String,
    password: String,
    nonce: String,
}

impl ScramClient {
    fn new(mechanism: Mechanism, user: &str, password: &str) -> Self {
        ScramClient {
            mechanism,
            user: user.into(),
            password: password.into(),
            nonce: "fyko+d2lbbFgONRv9qkxdawL".into(),
        }
    }

    fn first(&self) -> Vec<u8> {
        format!("n,,n={},r={}", self.user, self.nonce).into_bytes()
    }

    /// (client-final, expected server-final)
    fn last(&self, server_first: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let sf = std::str::from_utf8(server_first).unwrap();
        let mut nonce = "";
        let mut salt = Vec::new();
        let mut iterations = 0;
        for f in sf.split(',') {
            match f.split_at(2) {
                ("r=", v) => nonce = v,
                ("s=", v) => salt = base64::decode(v).unwrap(),
                ("i=", v) => iterations = v.parse().unwrap(),
                _ => {}
            }
        }
        assert!(nonce.starts_with(&self.nonce) && nonce.len() > self.nonce.len(), "{sf}");
        let m = self.mechanism;
        let salted = m.salted_password(self.password.as_bytes(), &salt, iterations);
        let cred = m.credential(&salted, &salt, iterations as i32);
        let without_proof = format!("c=biws,r={nonce}");
        let auth = format!("n={},r={},{sf},{without_proof}", self.user, self.nonce);
        let hmac = |k: &[u8], d: &[u8]| match m {
            Mechanism::ScramSha256 => {
                minikafka::security::hmac::hmac::<minikafka::security::sha2::Sha256>(k, d)
            }
            Mechanism::ScramSha512 => {
                minikafka::security::hmac::hmac::<minikafka::security::sha2::Sha512>(k, d)
            }
        };
        let client_key = hmac(&salted, b"Client Key");
        let signature = hmac(&cred.stored_key, auth.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&signature).map(|(a, b)| a ^ b).collect();
        let server_sig = hmac(&cred.server_key, auth.as_bytes());
        (
            format!("{without_proof},p={}", base64::encode(&proof)).into_bytes(),
            format!("v={}", base64::encode(&server_sig)).into_bytes(),
        )
    }
}

/// A whole SCRAM exchange over SaslAuthenticate v`v`: the final error and message.
fn scram_login(c: &mut Client, v: i16, client: &ScramClient) -> (i16, Option<String>) {
    let (code, mechanisms) = handshake(c, 1, client.mechanism.name());
    assert_eq!(code, 0, "{mechanisms:?}");
    let (code, msg, server_first, _) = authenticate(c, v, &client.first());
    if code != 0 {
        return (code, msg);
    }
    let (last, expected) = client.last(&server_first);
    let (code, msg, server_final, _) = authenticate(c, v, &last);
    if code == 0 {
        assert_eq!(server_final, expected, "the server proves it knows the credential");
    }
    (code, msg)
}

#[test]
fn plaintext_listener_answers_sasl_requests_as_kafka_does() {
    let dir = TempDir::new("sasl-plaintext");
    let s = start(dir.path(), &[]);
    let mut c = s.broker.connect();
    for v in 0..=1 {
        assert_eq!(handshake(&mut c, v, "PLAIN"), (ILLEGAL_SASL_STATE, vec![]));
    }
    for v in 0..=2 {
        let (code, msg, bytes, _) = authenticate(&mut c, v, b"x");
        assert_eq!(code, ILLEGAL_SASL_STATE);
        assert_eq!(
            msg.as_deref(),
            Some("SaslAuthenticate request received after successful authentication")
        );
        assert!(bytes.is_empty());
    }
    // Nothing else was disturbed.
    assert_eq!(metadata_port(&mut c), i32::from(s.broker.addr.port()));
}

#[test]
fn a_sasl_listener_serves_nothing_but_api_versions_before_authentication() {
    let dir = TempDir::new("sasl-gate");
    let s = start(dir.path(), &[]);
    let mut c = Client::connect(s.sasl);
    assert!(c.api_versions(3).api_keys.iter().any(|k| k.0 == 17));
    c.send(3, 12, &{
        let mut b = Vec::new();
        kafka_protocol::protocol::Encodable::encode(&MetadataRequest::default(), &mut b, 12)
            .unwrap();
        b
    });
    c.expect_closed();
    assert!(s
        .broker
        .logs
        .wait_for(Duration::from_secs(10), |l| l.contains("Metadata before SASL authentication"))
        .is_some());
    // SaslAuthenticate before the handshake closes it too.
    let mut c = Client::connect(s.sasl);
    c.send(36, 1, &{
        let mut b = Vec::new();
        let r =
            SaslAuthenticateRequest::default().with_auth_bytes(plain_token("admin", "x").into());
        kafka_protocol::protocol::Encodable::encode(&r, &mut b, 1).unwrap();
        b
    });
    c.expect_closed();
}

#[test]
fn plain_accepts_its_users_and_refuses_wrong_passwords() {
    let dir = TempDir::new("sasl-plain");
    let s = start(dir.path(), &[]);
    for v in 0..=2 {
        let mut c = Client::connect(s.sasl);
        let (code, mechanisms) = handshake(&mut c, 1, "PLAIN");
        assert_eq!(
            (code, mechanisms),
            (0, vec!["PLAIN".into(), "SCRAM-SHA-256".into(), "SCRAM-SHA-512".into()])
        );
        let (code, msg, bytes, lifetime) = authenticate(&mut c, v, &plain_token("carol", "c-pw"));
        assert_eq!((code, msg, bytes, lifetime), (0, None, vec![], 0), "v{v}");
        // Served now, and told to come back by the SASL listener.
        assert_eq!(metadata_port(&mut c), i32::from(s.sasl.port()));
    }
    for (token, why) in [
        (plain_token("carol", "wrong"), "wrong password"),
        (plain_token("mallory", "c-pw"), "unknown user"),
        (b"carol\0carol".to_vec(), "two fields"),
        (b"dave\0carol\0c-pw".to_vec(), "authzid of another user"),
    ] {
        let mut c = Client::connect(s.sasl);
        assert_eq!(handshake(&mut c, 1, "PLAIN").0, 0);
        let (code, msg, _, _) = authenticate(&mut c, 2, &token);
        assert_eq!(code, SASL_AUTHENTICATION_FAILED, "{why}");
        assert!(msg.unwrap().starts_with("Authentication failed") || why == "two fields");
        c.expect_closed();
    }
    // The failure is logged with the user tried, never the password.
    let line = s
        .broker
        .logs
        .wait_for(Duration::from_secs(10), |l| l.contains("failed authentication with PLAIN"))
        .unwrap();
    assert!(line.contains("\"carol\"") && !line.contains("wrong"), "{line}");
}

#[test]
fn an_unknown_mechanism_is_refused_and_the_connection_closed() {
    let dir = TempDir::new("sasl-mech");
    let s = start(dir.path(), &["listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN"]);
    let mut c = Client::connect(s.sasl);
    assert_eq!(
        handshake(&mut c, 1, "SCRAM-SHA-256"),
        (UNSUPPORTED_SASL_MECHANISM, vec!["PLAIN".into()])
    );
    c.expect_closed();
    // A handshake twice is out of turn.
    let mut c = Client::connect(s.sasl);
    assert_eq!(handshake(&mut c, 1, "PLAIN").0, 0);
    assert_eq!(handshake(&mut c, 1, "PLAIN").0, ILLEGAL_SASL_STATE);
    c.expect_closed();
}

#[test]
fn a_v0_handshake_is_followed_by_bare_tokens() {
    let dir = TempDir::new("sasl-v0");
    let s = start(dir.path(), &[]);
    let mut c = Client::connect(s.sasl);
    assert_eq!(handshake(&mut c, 0, "PLAIN").0, 0);
    let token = plain_token("admin", "admin-secret");
    let mut frame = (token.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&token);
    c.send_raw(&frame);
    assert_eq!(c.recv_exact(4), [0, 0, 0, 0], "PLAIN's empty server token, size-prefixed");
    assert_eq!(metadata_port(&mut c), i32::from(s.sasl.port()));
    // A wrong bare token closes the connection without an answer.
    let mut c = Client::connect(s.sasl);
    assert_eq!(handshake(&mut c, 0, "PLAIN").0, 0);
    let token = plain_token("admin", "nope");
    let mut frame = (token.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&token);
    c.send_raw(&frame);
    c.expect_closed();
}

#[test]
fn scram_users_from_the_command_line_log_in_with_both_mechanisms() {
    let dir = TempDir::new("sasl-scram");
    let s = start(
        dir.path(),
        &[
            "--add-scram SCRAM-SHA-256=[name=alice,password=alice-secret]",
            "--add-scram SCRAM-SHA-512=[name=alice,password=alice-512,iterations=8192]",
        ],
    );
    for (m, pw) in [(Mechanism::ScramSha256, "alice-secret"), (Mechanism::ScramSha512, "alice-512")]
    {
        for v in 0..=2 {
            let mut c = Client::connect(s.sasl);
            assert_eq!(scram_login(&mut c, v, &ScramClient::new(m, "alice", pw)), (0, None));
            assert_eq!(metadata_port(&mut c), i32::from(s.sasl.port()));
        }
        // A wrong password fails at the proof, and the connection closes.
        let mut c = Client::connect(s.sasl);
        let (code, msg) = scram_login(&mut c, 2, &ScramClient::new(m, "alice", "guess"));
        assert_eq!(code, SASL_AUTHENTICATION_FAILED);
        assert_eq!(
            msg.unwrap(),
            format!(
                "Authentication failed during authentication due to invalid credentials with \
                 SASL mechanism {}",
                m.name()
            )
        );
        c.expect_closed();
    }
    // An unknown user fails at the first message.
    let mut c = Client::connect(s.sasl);
    let client = ScramClient::new(Mechanism::ScramSha256, "nobody", "x");
    assert_eq!(scram_login(&mut c, 2, &client).0, SASL_AUTHENTICATION_FAILED);
    c.expect_closed();
}

#[test]
fn a_replayed_scram_final_message_is_refused() {
    let dir = TempDir::new("sasl-replay");
    let s = start(dir.path(), &["--add-scram SCRAM-SHA-256=[name=alice,password=pw]"]);
    let client = ScramClient::new(Mechanism::ScramSha256, "alice", "pw");
    // Record a good exchange's final message...
    let mut c = Client::connect(s.sasl);
    assert_eq!(handshake(&mut c, 1, "SCRAM-SHA-256").0, 0);
    let (_, _, server_first, _) = authenticate(&mut c, 2, &client.first());
    let (last, _) = client.last(&server_first);
    assert_eq!(authenticate(&mut c, 2, &last).0, 0);
    // ...and replay it on a new connection, whose server nonce differs.
    let mut c = Client::connect(s.sasl);
    assert_eq!(handshake(&mut c, 1, "SCRAM-SHA-256").0, 0);
    let (code, _, server_first2, _) = authenticate(&mut c, 2, &client.first());
    assert_eq!(code, 0);
    assert_ne!(server_first, server_first2, "a fresh server nonce per exchange");
    assert_eq!(authenticate(&mut c, 2, &last).0, SASL_AUTHENTICATION_FAILED);
    c.expect_closed();
}

#[test]
fn sessions_end_at_connections_max_reauth_ms_unless_renewed() {
    let dir = TempDir::new("sasl-reauth");
    let s = start(dir.path(), &["connections.max.reauth.ms=400"]);
    let mut c = Client::connect(s.sasl);
    assert_eq!(handshake(&mut c, 1, "PLAIN").0, 0);
    let (code, _, _, lifetime) = authenticate(&mut c, 1, &plain_token("carol", "c-pw"));
    assert_eq!((code, lifetime), (0, 400));
    // v0 has no lifetime field; the session ends all the same.
    // Re-authenticating as someone else is refused.
    assert_eq!(handshake(&mut c, 1, "PLAIN").0, 0);
    let (code, msg, _, _) = authenticate(&mut c, 1, &plain_token("admin", "admin-secret"));
    assert_eq!(code, SASL_AUTHENTICATION_FAILED);
    assert_eq!(msg.as_deref(), Some("Cannot change principals during re-authentication"));
    c.expect_closed();
    // A session used past its lifetime is closed at its next request.
    let mut c = Client::connect(s.sasl);
    assert_eq!(handshake(&mut c, 1, "PLAIN").0, 0);
    assert_eq!(authenticate(&mut c, 2, &plain_token("carol", "c-pw")).0, 0);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(20);
    let mut served_after_renewal = false;
    loop {
        assert!(Instant::now() < deadline, "the session never ended");
        let mut body = Vec::new();
        kafka_protocol::protocol::Encodable::encode(&MetadataRequest::default(), &mut body, 12)
            .unwrap();
        c.send(3, 12, &body);
        match c.try_recv_frame() {
            Ok(_) => {
                if !served_after_renewal && started.elapsed() > Duration::from_millis(100) {
                    // Renew once, well inside the lifetime: the session goes on.
                    assert_eq!(handshake(&mut c, 1, "PLAIN").0, 0);
                    assert_eq!(authenticate(&mut c, 2, &plain_token("carol", "c-pw")).0, 0);
                    served_after_renewal = true;
                }
            }
            Err(_) => break,
        }
    }
    assert!(served_after_renewal);
    assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());
}

fn upsert(name: &str, mechanism: i8, iterations: i32, password: &str) -> ScramCredentialUpsertion {
    let m = Mechanism::from_kafka_type(mechanism).unwrap_or(Mechanism::ScramSha256);
    let salt = b"0123456789abcdef".to_vec();
    let salted = m.salted_password(password.as_bytes(), &salt, iterations.max(1) as u32);
    ScramCredentialUpsertion::default()
        .with_name(sb(name))
        .with_mechanism(mechanism)
        .with_iterations(iterations)
        .with_salt(salt.into())
        .with_salted_password(salted.into())
}

fn delete(name: &str, mechanism: i8) -> ScramCredentialDeletion {
    ScramCredentialDeletion::default().with_name(sb(name)).with_mechanism(mechanism)
}

/// (user, error, message) sorted by user: Kafka's order comes from a hash map.
fn alter(
    c: &mut Client,
    deletions: Vec<ScramCredentialDeletion>,
    upsertions: Vec<ScramCredentialUpsertion>,
) -> Vec<(String, i16, Option<String>)> {
    let r = c.kp_call(
        0,
        &AlterUserScramCredentialsRequest::default()
            .with_deletions(deletions)
            .with_upsertions(upsertions),
    );
    let mut v: Vec<_> = r
        .results
        .into_iter()
        .map(|r| (r.user.to_string(), r.error_code, r.error_message.map(|m| m.to_string())))
        .collect();
    v.sort();
    v
}

/// (user, error, [(mechanism, iterations)])
type Described = Vec<(String, i16, Vec<(i8, i32)>)>;

fn describe(c: &mut Client, users: Option<&[&str]>) -> Described {
    let req = DescribeUserScramCredentialsRequest::default().with_users(
        users.map(|u| u.iter().map(|n| UserName::default().with_name(sb(n))).collect()),
    );
    let r = c.kp_call(0, &req);
    assert_eq!(r.error_code, 0);
    let mut v: Vec<_> = r
        .results
        .into_iter()
        .map(|r| {
            let infos = r.credential_infos.iter().map(|i| (i.mechanism, i.iterations)).collect();
            (r.user.to_string(), r.error_code, infos)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn scram_credentials_altered_described_used_and_kept_across_a_restart() {
    let dir = TempDir::new("sasl-alter");
    let s = start(dir.path(), &[]);
    let mut c = s.broker.connect();
    assert_eq!(describe(&mut c, None), vec![]);
    let ok = |u: &str| (u.to_string(), 0, None);
    assert_eq!(
        alter(&mut c, vec![], vec![upsert("bob", 2, 8192, "bob-pw"), upsert("eve", 1, 4096, "e")]),
        vec![ok("bob"), ok("eve")]
    );
    let err = |u: &str, code, msg: &str| (u.to_string(), code, Some(msg.to_string()));
    assert_eq!(
        alter(
            &mut c,
            vec![delete("nobody", 1), delete("eve", 1), delete("eve", 2)],
            vec![
                upsert("few", 1, 1024, "x"),
                upsert("many", 2, 20000, "x"),
                upsert("", 1, 4096, "x"),
                upsert("odd", 7, 4096, "x"),
                upsert("twice", 1, 4096, "x"),
                upsert("twice", 2, 4096, "x"),
            ]
        ),
        vec![
            err("", UNACCEPTABLE_CREDENTIAL, "Username must not be empty"),
            err(
                "eve",
                DUPLICATE_RESOURCE,
                "A user credential cannot be altered twice in the same request"
            ),
            err("few", UNACCEPTABLE_CREDENTIAL, "Too few iterations"),
            err("many", UNACCEPTABLE_CREDENTIAL, "Too many iterations"),
            err(
                "nobody",
                RESOURCE_NOT_FOUND,
                "Attempt to delete a user credential that does not exist"
            ),
            err("odd", UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism"),
            err(
                "twice",
                DUPLICATE_RESOURCE,
                "A user credential cannot be altered twice in the same request"
            ),
        ]
    );
    assert_eq!(
        describe(&mut c, None),
        vec![("bob".into(), 0, vec![(2, 8192)]), ("eve".into(), 0, vec![(1, 4096)])]
    );
    assert_eq!(
        describe(&mut c, Some(&["bob", "zed", "bob"])),
        vec![
            ("bob".into(), DUPLICATE_RESOURCE, vec![]),
            ("zed".into(), RESOURCE_NOT_FOUND, vec![])
        ]
    );
    let mut l = Client::connect(s.sasl);
    let bob = ScramClient::new(Mechanism::ScramSha512, "bob", "bob-pw");
    assert_eq!(scram_login(&mut l, 2, &bob), (0, None));
    // The credentials are metadata records: a restart replays them.
    s.broker.stop();
    let s = start(dir.path(), &[]);
    let mut l = Client::connect(s.sasl);
    assert_eq!(scram_login(&mut l, 2, &bob), (0, None));
    let mut c = s.broker.connect();
    assert_eq!(alter(&mut c, vec![delete("bob", 2)], vec![]), vec![ok("bob")]);
    let mut l = Client::connect(s.sasl);
    assert_eq!(scram_login(&mut l, 2, &bob).0, SASL_AUTHENTICATION_FAILED);
    assert_eq!(describe(&mut c, Some(&["bob"])), vec![("bob".into(), RESOURCE_NOT_FOUND, vec![])]);
}

#[test]
fn listeners_that_cannot_be_served_stop_the_start() {
    let dir = TempDir::new("sasl-bad");
    for (overrides, expect) in [
        (vec!["listeners=SSL://127.0.0.1:0"], "TLS"),
        (vec!["listeners=SASL_PLAINTEXT://127.0.0.1:0"], "GSSAPI is not served"),
        (
            vec!["listeners=SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN"],
            "plain.sasl.jaas.config is not set",
        ),
        (vec!["listeners=OTHER://127.0.0.1:0"], "not in listener.security.protocol.map"),
    ] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_minikafka"));
        cmd.arg("--override").arg(format!("log.dirs={}", dir.path().display()));
        for o in overrides {
            cmd.arg("--override").arg(o);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{expect}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{expect}: {err}");
    }
}
