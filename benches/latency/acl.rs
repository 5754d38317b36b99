//! `produce_1_acls`: `produce_1` with the authorizer on. The broker has one SASL_PLAINTEXT
//! listener (PLAIN), `User:admin` as its super user, and a few hundred ACLs the admin creates
//! before the run (literal and prefixed, on topics, groups and transactional ids, for several
//! principals, some DENY); the client logs in as `alice`, whose WRITE on the topic is one of
//! them, and produces as `produce_1` does, beside the same interleaved echo.

use crate::broker::Broker;
use crate::echo::Echo;
use crate::report::{Lat, Row, Target};
use crate::server::Server;
use crate::wire::{self, Conn, CLIENT_ID};
use crate::{
    check_echo, check_produce, cpu_over, interleaved, one_record, row_of, setup, verify_stored,
    Ctx, START_DEADLINE, TOPIC_ONE,
};

/// ACLs besides alice's WRITE on the topic.
const OTHER_ACLS: usize = 300;

/// A request frame of a non-flexible version: header v1, then `body`.
fn frame(api_key: i16, api_version: i16, body: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(32 + body.len());
    f.extend_from_slice(&0i32.to_be_bytes());
    f.extend_from_slice(&api_key.to_be_bytes());
    f.extend_from_slice(&api_version.to_be_bytes());
    f.extend_from_slice(&1i32.to_be_bytes()); // correlation id
    string(&mut f, CLIENT_ID);
    f.extend_from_slice(body);
    let size = (f.len() - 4) as i32;
    f[..4].copy_from_slice(&size.to_be_bytes());
    f
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as i16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// The first error code of a response body (after its correlation id and `skip` bytes).
fn error_at(body: &[u8], skip: usize) -> Result<i16, String> {
    let at = 4 + skip;
    body.get(at..at + 2)
        .map(|b| i16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| format!("short response of {} bytes", body.len()))
}

/// SaslHandshake v1 and SaslAuthenticate v0 with PLAIN.
fn login(conn: &mut Conn, user: &str, password: &str) -> Result<(), String> {
    let mut body = Vec::new();
    string(&mut body, "PLAIN");
    let r = conn.round_trip(&frame(17, 1, &body)).map_err(|e| format!("handshake: {e}"))?;
    match error_at(r, 0)? {
        0 => {}
        code => return Err(format!("SaslHandshake answered error {code}")),
    }
    let token = format!("\0{user}\0{password}");
    let mut body = Vec::new();
    body.extend_from_slice(&(token.len() as i32).to_be_bytes());
    body.extend_from_slice(token.as_bytes());
    let r = conn.round_trip(&frame(36, 0, &body)).map_err(|e| format!("authenticate: {e}"))?;
    match error_at(r, 0)? {
        0 => Ok(()),
        code => Err(format!("SaslAuthenticate of {user} answered error {code}")),
    }
}

/// (resource type, name, pattern type, principal, operation, permission)
type Acl = (i8, String, i8, String, i8, i8);

/// CreateAcls v1 of `acls`; every result must be NONE.
fn create_acls(conn: &mut Conn, acls: &[Acl]) -> Result<(), String> {
    let mut body = Vec::new();
    body.extend_from_slice(&(acls.len() as i32).to_be_bytes());
    for (rt, name, pt, principal, op, perm) in acls {
        body.push(*rt as u8);
        string(&mut body, name);
        body.push(*pt as u8);
        string(&mut body, principal);
        string(&mut body, "*");
        body.push(*op as u8);
        body.push(*perm as u8);
    }
    let r = conn.round_trip(&frame(30, 1, &body)).map_err(|e| format!("CreateAcls: {e}"))?;
    // throttle_time_ms, then the results array: (error_code, error_message) each.
    let n =
        i32::from_be_bytes(r.get(8..12).ok_or("short CreateAcls response")?.try_into().unwrap());
    if n as usize != acls.len() {
        return Err(format!("CreateAcls answered {n} results for {}", acls.len()));
    }
    let mut at = 12;
    for _ in 0..n {
        let code = i16::from_be_bytes(r[at..at + 2].try_into().unwrap());
        let len = i16::from_be_bytes(r[at + 2..at + 4].try_into().unwrap());
        if code != 0 {
            return Err(format!("CreateAcls answered error {code}"));
        }
        at += 4 + len.max(0) as usize;
    }
    Ok(())
}

/// A few hundred ACLs around alice's one: other topics, prefixes, groups, transactional ids,
/// other principals, some DENY.
fn acls() -> Vec<Acl> {
    let mut v: Vec<Acl> = vec![(2, TOPIC_ONE.into(), 3, "User:alice".into(), 4, 3)];
    for i in 0..OTHER_ACLS {
        let principal = format!("User:user{}", i % 17);
        let acl = match i % 6 {
            0 => (2, format!("topic-{i}"), 3, principal, 4, 3),
            1 => (2, format!("prefix-{i}-"), 4, principal, 3, 3),
            2 => (3, format!("group-{i}"), 3, principal, 3, 3),
            3 => (5, format!("txn-{i}"), 4, principal, 4, 3),
            4 => (2, format!("topic-{i}"), 3, "User:alice".into(), 6, 2),
            _ => (2, format!("bench-{i}"), 4, principal, 2, 2),
        };
        v.push(acl);
    }
    v
}

pub fn produce_1_acls(ctx: &mut Ctx) -> Result<Row, String> {
    let dir = setup::log_dir("produce1acls", &[(TOPIC_ONE, 1)])?;
    let jaas = "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.\
                security.plain.PlainLoginModule required user_admin=\"admin-secret\" \
                user_alice=\"alice-secret\";";
    let overrides = [
        "listeners=SASL_PLAINTEXT://127.0.0.1:0",
        "sasl.enabled.mechanisms=PLAIN",
        jaas,
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users=User:admin",
    ];
    let broker = Broker::start_with(dir.path(), START_DEADLINE, &overrides)?;
    let mut broker = Server::Mini { broker, _dir: dir };
    let acls = acls();
    {
        let mut admin = broker.connect()?;
        login(&mut admin, "admin", "admin-secret").map_err(|e| broker.explain(e))?;
        create_acls(&mut admin, &acls).map_err(|e| broker.explain(e))?;
    }
    let mut conn = broker.connect()?;
    login(&mut conn, "alice", "alice-secret").map_err(|e| broker.explain(e))?;
    let echo =
        Echo::start(wire::produce_v7_response_len(TOPIC_ONE)).map_err(|e| format!("echo: {e}"))?;
    let mut echo_conn = Conn::connect(echo.port).map_err(|e| format!("connect to echo: {e}"))?;
    let records = one_record();
    let mut frame = wire::produce_v7(TOPIC_ONE, 0, 1, &records);
    let mut echo_frame = frame.clone();
    let mut on_broker =
        |plan| crate::drive::closed_loop(&mut conn, &mut frame, plan, check_produce);
    let mut on_echo =
        |plan| crate::drive::closed_loop(&mut echo_conn, &mut echo_frame, plan, check_echo);
    let cpu0 = broker.cpu();
    let [run, mut echo_run] =
        interleaved(ctx, [&mut on_broker, &mut on_echo]).map_err(|e| broker.explain(e))?;
    let cpu = cpu_over(&broker, cpu0, &run);
    let acked = run.requests();
    // Alice may not read the topic: the admin checks what was stored.
    let mut admin = broker.connect()?;
    login(&mut admin, "admin", "admin-secret").map_err(|e| broker.explain(e))?;
    let hw = verify_stored(&mut admin, TOPIC_ONE, 0, acked).map_err(|e| broker.explain(e))?;
    let mut row = row_of(ctx, "produce_1_acls", run, 1, records.len())?;
    row.set_cpu(cpu);
    row.extra.push(("high_watermark", hw as f64));
    row.extra.push(("acls", acls.len() as f64));
    let echo_lat = Lat::from_ns(&mut echo_run.lat_ns);
    row.ratios_to(echo_lat);
    if let Some(e) = echo_lat {
        row.extra.push(("echo_p50_us", e.p50));
        row.extra.push(("echo_p99_us", e.p99));
        row.note = format!(
            "{} ACLs, SASL PLAIN; x_ ratios to the interleaved echo: p50 {:.1} us, p99 {:.1} us",
            acls.len(),
            e.p50,
            e.p99
        );
    }
    // The same target as produce_1: the authorizer must not cost a visible share.
    row.target = match (row.ratio_p50, row.ratio_p99) {
        (Some(r50), Some(r99)) => Target::check(
            r50 <= 1.3 && r99 <= 1.5,
            format!("p50 {r50:.2}x <= 1.3x and p99 {r99:.2}x <= 1.5x of loopback"),
        ),
        _ => Target::NotMet("no loopback measurement".into()),
    };
    Ok(row)
}
