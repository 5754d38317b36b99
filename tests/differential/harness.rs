//! The machinery of differential conformance: a scenario is a list of steps; each step builds
//! one request (per broker, from what that broker answered before: topic ids, member ids,
//! producer ids), sends the same bytes to Apache Kafka and to minikafka, decodes both answers
//! with kafka-protocol, normalises what must differ, and compares them line by line.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use uuid::Uuid;

/// What one broker has told us so far, so later requests can name its ids.
#[derive(Default)]
pub struct Ctx {
    pub topic_ids: HashMap<String, Uuid>,
    pub member_id: String,
    pub generation_id: i32,
    pub producer_id: i64,
    pub producer_epoch: i16,
}

impl Ctx {
    pub fn topic_id(&self, name: &str) -> Uuid {
        self.topic_ids.get(name).copied().unwrap_or_else(|| panic!("no topic id learnt for {name}"))
    }

    /// Learns ids from a response.
    fn learn(&mut self, resp: &ResponseKind) {
        match resp {
            ResponseKind::CreateTopics(r) => {
                for t in &r.topics {
                    if !t.topic_id.is_nil() {
                        self.topic_ids.insert(t.name.0.to_string(), t.topic_id);
                    }
                }
            }
            ResponseKind::Metadata(r) => {
                for t in &r.topics {
                    if let Some(name) = &t.name {
                        if !t.topic_id.is_nil() {
                            self.topic_ids.insert(name.0.to_string(), t.topic_id);
                        }
                    }
                }
            }
            ResponseKind::JoinGroup(r) => {
                if !r.member_id.is_empty() {
                    self.member_id = r.member_id.to_string();
                }
                if r.error_code == 0 {
                    self.generation_id = r.generation_id;
                }
            }
            ResponseKind::InitProducerId(r) if r.error_code == 0 => {
                self.producer_id = r.producer_id.0;
                self.producer_epoch = r.producer_epoch;
            }
            _ => {}
        }
    }
}

pub type Build = Box<dyn Fn(&Ctx, i16) -> RequestKind>;
pub type Raw = Box<dyn Fn(&Ctx, i16) -> Vec<u8>>;

/// One request of a scenario, sent at one version.
pub struct Step {
    pub api: ApiKey,
    pub version: i16,
    pub body: Body,
    /// Produce with acks=0: no response is read.
    pub no_response: bool,
    /// Sent, but its answer is only used to learn ids (set-up, not judged).
    pub judged: bool,
    /// Sent again (with a deadline) until its answer satisfies this: waits for what each
    /// broker does in its own time, such as its log cleaner's next round.
    pub until: Option<Until>,
}

pub type Until = Box<dyn Fn(&ResponseKind) -> bool>;

pub enum Body {
    Typed(Build),
    /// Body bytes as given (for what kafka-protocol cannot encode: bad input).
    Raw(Raw),
}

pub struct Scenario {
    pub name: String,
    /// Topics (name, partitions) created on both brokers before any scenario runs, so that
    /// Kafka has them ready (leaders elected, logs open) when the steps begin.
    pub topics: Vec<(String, i32)>,
    pub steps: Vec<Step>,
}

impl Scenario {
    pub fn new(name: impl Into<String>) -> Scenario {
        Scenario { name: name.into(), topics: Vec::new(), steps: Vec::new() }
    }

    pub fn topic(mut self, name: &str, partitions: i32) -> Scenario {
        self.topics.push((name.to_string(), partitions));
        self
    }

    fn push(mut self, api: ApiKey, version: i16, body: Body, answered: bool, judged: bool) -> Self {
        self.steps.push(Step { api, version, body, no_response: !answered, judged, until: None });
        self
    }

    /// A set-up step repeated until `done` holds of its answer (60 s at most).
    pub fn until(
        mut self,
        api: ApiKey,
        version: i16,
        build: impl Fn(&Ctx, i16) -> RequestKind + 'static,
        done: impl Fn(&ResponseKind) -> bool + 'static,
    ) -> Self {
        self = self.push(api, version, Body::Typed(Box::new(build)), true, false);
        self.steps.last_mut().expect("pushed").until = Some(Box::new(done));
        self
    }

    /// A judged step at `version`.
    pub fn step(
        self,
        api: ApiKey,
        version: i16,
        build: impl Fn(&Ctx, i16) -> RequestKind + 'static,
    ) -> Self {
        self.push(api, version, Body::Typed(Box::new(build)), true, true)
    }

    /// A step whose answer is not compared (set-up), only learnt from.
    pub fn setup(
        self,
        api: ApiKey,
        version: i16,
        build: impl Fn(&Ctx, i16) -> RequestKind + 'static,
    ) -> Self {
        self.push(api, version, Body::Typed(Box::new(build)), true, false)
    }

    /// A judged step with a hand-made body.
    pub fn raw(
        self,
        api: ApiKey,
        version: i16,
        body: impl Fn(&Ctx, i16) -> Vec<u8> + 'static,
    ) -> Self {
        self.push(api, version, Body::Raw(Box::new(body)), true, true)
    }

    /// A step that gets no answer (acks=0).
    pub fn unanswered(
        self,
        api: ApiKey,
        version: i16,
        build: impl Fn(&Ctx, i16) -> RequestKind + 'static,
    ) -> Self {
        self.push(api, version, Body::Typed(Box::new(build)), false, false)
    }
}

/// How a broker answered one step.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The normalised, pretty-printed response.
    Answer(String),
    /// The broker closed the connection instead of answering.
    Closed,
    /// Nothing to judge (acks=0, or a set-up step).
    Skipped,
}

/// One broker under test: a connection and what it told us.
pub struct Side {
    pub name: &'static str,
    addr: SocketAddr,
    conn: Option<TcpStream>,
    pub ctx: Ctx,
    correlation_id: i32,
}

impl Side {
    pub fn new(name: &'static str, addr: SocketAddr) -> Side {
        Side { name, addr, conn: None, ctx: Ctx::default(), correlation_id: 0 }
    }

    fn conn(&mut self) -> &mut TcpStream {
        if self.conn.is_none() {
            let s = TcpStream::connect(self.addr).expect("connect");
            s.set_nodelay(true).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            self.conn = Some(s);
        }
        self.conn.as_mut().unwrap()
    }

    /// Sends one step (again until its answer is as awaited, for an `until` step); returns
    /// the decoded response (or how the broker refused).
    pub fn run(&mut self, step: &Step) -> (Outcome, Option<ResponseKind>) {
        let Some(done) = &step.until else { return self.run_once(step) };
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let out = self.run_once(step);
            if out.1.as_ref().is_some_and(done) {
                return out;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{}: {:?} never as awaited",
                self.name,
                step.api
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn run_once(&mut self, step: &Step) -> (Outcome, Option<ResponseKind>) {
        let mut typed = None;
        let body = match &step.body {
            Body::Typed(build) => {
                let req = build(&self.ctx, step.version);
                let mut b = BytesMut::new();
                req.encode(&mut b, step.version).unwrap_or_else(|e| {
                    panic!("kafka-protocol cannot encode {:?} v{}: {e}", step.api, step.version)
                });
                typed = Some(req);
                b.to_vec()
            }
            Body::Raw(raw) => raw(&self.ctx, step.version),
        };
        self.correlation_id += 1;
        let id = self.correlation_id;
        let header = RequestHeader::default()
            .with_request_api_key(step.api as i16)
            .with_request_api_version(step.version)
            .with_correlation_id(id)
            .with_client_id(Some(StrBytes::from_static_str("differential")));
        let mut frame = BytesMut::new();
        header.encode(&mut frame, step.api.request_header_version(step.version)).unwrap();
        frame.extend_from_slice(&body);
        let mut out = (frame.len() as i32).to_be_bytes().to_vec();
        out.extend_from_slice(&frame);
        let conn = self.conn();
        if conn.write_all(&out).is_err() {
            self.conn = None;
            return (Outcome::Closed, None);
        }
        if step.no_response {
            return (Outcome::Skipped, None);
        }
        let mut size = [0u8; 4];
        if conn.read_exact(&mut size).is_err() {
            self.conn = None;
            return (Outcome::Closed, None);
        }
        let mut payload = vec![0u8; i32::from_be_bytes(size) as usize];
        conn.read_exact(&mut payload).expect("read a whole response");
        let mut buf = Bytes::from(payload);
        let header =
            ResponseHeader::decode(&mut buf, step.api.response_header_version(step.version))
                .unwrap_or_else(|e| panic!("{}: response header: {e}", self.name));
        assert_eq!(header.correlation_id, id, "{}: correlation id", self.name);
        // ApiVersions answers an unsupported version in v0.
        let version = match step.api {
            ApiKey::ApiVersions if step.version > 4 && buf.len() >= 2 && buf[..2] == [0, 35] => 0,
            _ => step.version,
        };
        let mut resp = ResponseKind::decode(step.api, &mut buf, version).unwrap_or_else(|e| {
            panic!("{}: kafka-protocol cannot decode {:?} v{version}: {e}", self.name, step.api)
        });
        assert!(buf.is_empty(), "{}: {} bytes left after {:?}", self.name, buf.len(), step.api);
        self.ctx.learn(&resp);
        if let Some(req) = &typed {
            self.settle(req, &resp);
        }
        if !step.judged {
            return (Outcome::Skipped, Some(resp));
        }
        sort_unordered(&mut resp);
        mask_deviations(&mut resp);
        normalise_records(&mut resp);
        (Outcome::Answer(normalise(&format!("{resp:#?}"), &self.ctx)), Some(resp))
    }
}

impl Side {
    /// Waits until the broker's metadata shows what a CreateTopics or DeleteTopics just did:
    /// Kafka answers once its controller has committed the change, and its broker's cache
    /// follows a moment later. Without this the next step would race that propagation.
    fn settle(&mut self, req: &RequestKind, resp: &ResponseKind) {
        if let Some(expected) = config_expectations(req, resp) {
            return self.settle_configs(expected);
        }
        let (wanted, gone): (Vec<String>, Vec<String>) = match (req, resp) {
            (RequestKind::CreateTopics(q), ResponseKind::CreateTopics(r)) if !q.validate_only => {
                let ok = r.topics.iter().filter(|t| t.error_code == 0);
                (ok.map(|t| t.name.0.to_string()).collect(), Vec::new())
            }
            (RequestKind::DeleteTopics(_), ResponseKind::DeleteTopics(r)) => {
                let ok = r.responses.iter().filter(|t| t.error_code == 0);
                let names = ok.filter_map(|t| t.name.as_ref().map(|n| n.0.to_string()));
                (Vec::new(), names.collect())
            }
            _ => return,
        };
        if wanted.is_empty() && gone.is_empty() {
            return;
        }
        let mut probe = Side::new(self.name, self.addr);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let names: Vec<String> = wanted.iter().chain(&gone).cloned().collect();
            let step = Step {
                api: ApiKey::Metadata,
                version: 12,
                body: Body::Typed(Box::new(move |_, v| {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    crate::scenarios::metadata(&names, v, false)
                })),
                no_response: false,
                judged: false,
                until: None,
            };
            let (_, r) = probe.run_plain(&step);
            let Some(ResponseKind::Metadata(m)) = r else { panic!("metadata probe") };
            let settled = m.topics.iter().all(|t| {
                let name = t.name.as_ref().map(|n| n.to_string()).unwrap_or_default();
                if gone.contains(&name) {
                    t.error_code == 3
                } else {
                    t.error_code == 0 && t.partitions.iter().all(|p| p.leader_id.0 >= 0)
                }
            });
            if settled {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{}: metadata never settled", self.name);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until DescribeConfigs shows what an (Incremental)AlterConfigs just changed: as
    /// with topics, Kafka's broker applies its controller's records a moment after the answer.
    /// A broker resource's own layer is DYNAMIC_BROKER_CONFIG for a node, DYNAMIC_DEFAULT_
    /// BROKER_CONFIG for the cluster ("").
    fn settle_configs(&mut self, expected: Vec<(Resource, Vec<ConfigExpectation>)>) {
        let mut probe = Side::new(self.name, self.addr);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        for ((resource_type, name), wants) in expected {
            let own = match (resource_type, name.as_str()) {
                (2, _) => 1,
                (_, "") => 3,
                _ => 2,
            };
            let keys: Vec<String> = wants.iter().map(|w| w.key.clone()).collect();
            loop {
                let (n, ks) = (name.clone(), keys.clone());
                let step = Step {
                    api: ApiKey::DescribeConfigs,
                    version: 4,
                    body: Body::Typed(Box::new(move |_, _| {
                        let ks: Vec<&str> = ks.iter().map(String::as_str).collect();
                        crate::configs::describe_resource(resource_type, &n, Some(&ks), false)
                    })),
                    no_response: false,
                    judged: false,
                    until: None,
                };
                let (_, r) = probe.run_plain(&step);
                let Some(ResponseKind::DescribeConfigs(d)) = r else { panic!("config probe") };
                let configs = &d.results[0].configs;
                let holds = wants.iter().all(|w| {
                    let c = configs.iter().find(|c| c.name.as_str() == w.key);
                    let (value, source) = c.map_or((String::new(), -1), |c| {
                        (
                            c.value.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                            c.config_source,
                        )
                    });
                    let items: Vec<&str> = value.split(',').collect();
                    match w.op {
                        0 => source == own && value == w.value,
                        1 => source != own,
                        2 => source == own && w.value.split(',').all(|i| items.contains(&i)),
                        _ => w.value.split(',').all(|i| !items.contains(&i)),
                    }
                });
                if holds {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "{}: configs never settled",
                    self.name
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// [`Side::run`] without settling (used by the settling itself).
    fn run_plain(&mut self, step: &Step) -> (Outcome, Option<ResponseKind>) {
        let saved = std::mem::take(&mut self.ctx);
        let out = self.run(step);
        self.ctx = saved;
        out
    }
}

/// A config resource: (type, name).
type Resource = (i8, String);

/// One key's state after a successful alteration: op as IncrementalAlterConfigs numbers them.
pub struct ConfigExpectation {
    key: String,
    op: i8,
    value: String,
}

/// What DescribeConfigs must show of each topic or broker resource an alteration changed
/// (None: nothing to wait for).
fn config_expectations(
    req: &RequestKind,
    resp: &ResponseKind,
) -> Option<Vec<(Resource, Vec<ConfigExpectation>)>> {
    let ok =
        |errors: Vec<(String, i16)>, name: &str| errors.iter().any(|(n, e)| n == name && *e == 0);
    let mut out = Vec::new();
    match (req, resp) {
        (RequestKind::IncrementalAlterConfigs(q), ResponseKind::IncrementalAlterConfigs(r))
            if !q.validate_only =>
        {
            let errors: Vec<(String, i16)> =
                r.responses.iter().map(|x| (x.resource_name.to_string(), x.error_code)).collect();
            for res in q.resources.iter().filter(|res| matches!(res.resource_type, 2 | 4)) {
                if !ok(errors.clone(), &res.resource_name) {
                    continue;
                }
                let wants = res
                    .configs
                    .iter()
                    .map(|c| ConfigExpectation {
                        key: c.name.to_string(),
                        op: c.config_operation,
                        value: c.value.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                    })
                    .collect();
                out.push(((res.resource_type, res.resource_name.to_string()), wants));
            }
        }
        (RequestKind::AlterConfigs(q), ResponseKind::AlterConfigs(r)) if !q.validate_only => {
            let errors: Vec<(String, i16)> =
                r.responses.iter().map(|x| (x.resource_name.to_string(), x.error_code)).collect();
            for res in q.resources.iter().filter(|res| matches!(res.resource_type, 2 | 4)) {
                if !ok(errors.clone(), &res.resource_name) {
                    continue;
                }
                let wants = res
                    .configs
                    .iter()
                    .map(|c| ConfigExpectation {
                        key: c.name.to_string(),
                        op: 0,
                        value: c.value.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                    })
                    .collect();
                out.push(((res.resource_type, res.resource_name.to_string()), wants));
            }
        }
        _ => return None,
    }
    Some(out)
}

/// Orders lists whose order carries no meaning and differs by implementation: Kafka lists
/// groups by their coordinator partition and configs in its own definition order.
fn sort_unordered(resp: &mut ResponseKind) {
    match resp {
        ResponseKind::DescribeGroups(r) => r.groups.sort_by(|a, b| a.group_id.cmp(&b.group_id)),
        ResponseKind::ListGroups(r) => r.groups.sort_by(|a, b| a.group_id.cmp(&b.group_id)),
        // Kafka merges the partitions' results in hash maps: their order is arbitrary.
        ResponseKind::DeleteRecords(r) => {
            r.topics.sort_by(|a, b| a.name.cmp(&b.name));
            for t in &mut r.topics {
                t.partitions.sort_by_key(|p| p.partition_index);
            }
        }
        // Kafka groups a directory's partitions by topic in a hash map.
        ResponseKind::DescribeLogDirs(r) => {
            for d in &mut r.results {
                d.topics.sort_by(|a, b| a.name.cmp(&b.name));
                for t in &mut d.topics {
                    t.partitions.sort_by_key(|p| p.partition_index);
                }
            }
        }
        // Kafka keeps a transaction's partitions in a hash set, and its transactional ids in
        // hash maps.
        ResponseKind::DescribeTransactions(r) => {
            for t in &mut r.transaction_states {
                t.topics.sort_by(|a, b| a.topic.cmp(&b.topic));
                for topic in &mut t.topics {
                    topic.partitions.sort_unstable();
                }
            }
        }
        ResponseKind::ListTransactions(r) => {
            r.transaction_states.sort_by(|a, b| a.transactional_id.cmp(&b.transactional_id));
        }
        ResponseKind::DescribeConfigs(r) => {
            for res in &mut r.results {
                res.configs.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
        // Kafka's SCRAM managers collect users in hash maps.
        ResponseKind::AlterUserScramCredentials(r) => r.results.sort_by(|a, b| a.user.cmp(&b.user)),
        ResponseKind::DescribeUserScramCredentials(r) => {
            r.results.sort_by(|a, b| a.user.cmp(&b.user));
            for res in &mut r.results {
                res.credential_infos.sort_by_key(|i| i.mechanism);
            }
        }
        _ => {}
    }
}

/// The deliberate deviations (README, "Where minikafka and Kafka differ"), masked on both
/// sides so that everything else in the same response is still compared.
fn mask_deviations(resp: &mut ResponseKind) {
    let mask = |name: &str, source: &mut i8| {
        // Kafka's controller writes a cluster-wide min.insync.replicas at format time.
        if name == "min.insync.replicas" {
            *source = -1;
        }
    };
    match resp {
        ResponseKind::CreateTopics(r) => {
            for t in &mut r.topics {
                for c in t.configs.iter_mut().flatten() {
                    mask(&c.name, &mut c.config_source);
                }
            }
        }
        ResponseKind::DescribeConfigs(r) => {
            for res in &mut r.results {
                for c in &mut res.configs {
                    mask(&c.name, &mut c.config_source);
                    // The wording of documentation is minikafka's own: only its presence is
                    // compared.
                    if c.documentation.is_some() {
                        c.documentation = Some(StrBytes::from_static_str("(documented)"));
                    }
                }
            }
        }
        _ => {}
    }
}

/// Producer ids differ between the brokers, and so do the CRCs of the batches that carry
/// them: both are zeroed in fetched batches (everything else in the batch is compared).
fn normalise_records(resp: &mut ResponseKind) {
    let ResponseKind::Fetch(r) = resp else { return };
    for t in &mut r.responses {
        for p in &mut t.partitions {
            let Some(records) = &p.records else { continue };
            let mut b = without_horizon_deltas(records);
            let mut at = 0;
            while at + 61 <= b.len() {
                let len = i32::from_be_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
                let producer_id = i64::from_be_bytes(b[at + 43..at + 51].try_into().unwrap());
                if producer_id != -1 {
                    b[at + 17..at + 21].fill(0);
                    b[at + 43..at + 51].fill(0);
                }
                // A transaction marker carries its coordinator's clock.
                if b[at + 22] & 0x20 != 0 {
                    b[at + 27..at + 43].fill(0);
                }
                // A LogAppendTime batch carries each broker's clock as its max timestamp,
                // and so its CRC differs too; its type bit and the rest are compared.
                if b[at + 22] & 0x08 != 0 {
                    b[at + 17..at + 21].fill(0);
                    b[at + 35..at + 43].fill(0);
                }
                at += 12 + len;
            }
            p.records = Some(Bytes::from(decompressed(b)));
        }
    }
}

/// A marker the cleaner gave a delete horizon has its cleaner's clock as base timestamp, and
/// its record's timestamp delta is taken from it: such a batch is rebuilt with the delta at 0
/// (its delete-horizon bit kept), so that the two brokers' clocks do not count.
fn without_horizon_deltas(b: &[u8]) -> Vec<u8> {
    use minikafka::records::{self, rewrite, Records};
    let mut out = Vec::with_capacity(b.len());
    let mut rest = b;
    while rest.len() >= records::HEADER_LEN {
        let Some(h) = records::BatchHeader::parse(rest) else { break };
        let (batch, next) = rest.split_at(h.total_len().min(rest.len()));
        rest = next;
        let recs: Option<Vec<_>> = (h.is_control()
            && rewrite::delete_horizon(&h).is_some()
            && batch.len() == h.total_len())
        .then(|| Records::new(batch).ok()?.collect::<Result<_, _>>().ok())
        .flatten();
        match recs {
            Some(recs) => {
                let start = out.len();
                rewrite::rebuild_batch(&h, &recs, None, h.compression(), &mut out);
                out[start + 21..start + 23].copy_from_slice(&batch[21..23]);
            }
            None => out.extend_from_slice(batch),
        }
    }
    out.extend_from_slice(rest);
    out
}

/// Compressed batches with their payloads decompressed (their codec bit kept, the length
/// fitted, the CRC zeroed): two brokers' encoders of one codec need not write the same bytes,
/// so what is compared is the codec and the records.
fn decompressed(b: Vec<u8>) -> Vec<u8> {
    use minikafka::records;
    let mut out = Vec::with_capacity(b.len());
    let mut rest = &b[..];
    while rest.len() >= records::HEADER_LEN {
        let Some(h) = records::BatchHeader::parse(rest) else { break };
        let (batch, next) = rest.split_at(h.total_len().min(rest.len()));
        rest = next;
        let section = (h.compression() != 0 && batch.len() == h.total_len())
            .then(|| records::records_section(batch, &h, 64 << 20).ok())
            .flatten();
        match section {
            Some(section) => {
                let start = out.len();
                out.extend_from_slice(&batch[..records::HEADER_LEN]);
                out.extend_from_slice(&section);
                let len = (out.len() - start - records::LOG_OVERHEAD) as i32;
                out[start + 8..start + 12].copy_from_slice(&len.to_be_bytes());
                out[start + 17..start + 21].fill(0);
            }
            None => out.extend_from_slice(batch),
        }
    }
    out.extend_from_slice(rest);
    out
}

/// Fields whose values must differ between two brokers, and what stands in for them.
const ERASED: [(&str, &str); 10] = [
    ("throttle_time_ms", "0"),
    ("cluster_id", "<cluster>"),
    ("host", "<host>"),
    ("port", "<port>"),
    ("producer_id", "<producer-id>"),
    ("session_id", "<session>"),
    ("directory_id", "<dir>"),
    // DescribeLogDirs: each broker's own directory, and its volume's sizes at that moment.
    ("log_dir", "<log-dir>"),
    ("total_bytes", "<bytes>"),
    ("usable_bytes", "<bytes>"),
];

/// Replaces what must differ: the fields above (also when their value is wrapped over lines,
/// as in `Some(\n "x",\n)` or `ProducerId(\n 7,\n)`), topic ids by their topic's name, member
/// ids by `<member>`. A value of -1 ("none") is the same on both and stays.
pub fn normalise(text: &str, ctx: &Ctx) -> String {
    let mut out = String::with_capacity(text.len());
    let mut wrapped: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let mut line = line.to_string();
        if let Some(with) = wrapped.take() {
            if trimmed.trim_end_matches(',') != "-1" {
                line = format!("{indent}{with},");
            }
        } else if let Some((field, value)) = trimmed.split_once(": ") {
            if let Some((_, with)) = ERASED.iter().find(|(f, _)| *f == field) {
                let value = value.trim_end_matches(',');
                if value.ends_with('(') {
                    wrapped = Some(with);
                } else if value != "-1" {
                    line = format!("{indent}{field}: {with},");
                }
            }
        }
        line = mask_clock(&line);
        line = replace_uuids(&line, ctx);
        if !ctx.member_id.is_empty() {
            line = line.replace(&ctx.member_id, "<member>");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Times each broker takes from its own clock: a LogAppendTime topic's append time (Produce's
/// `log_append_time_ms`, ListOffsets' `timestamp`) when it lies within ten minutes of now
/// (the scenarios' own timestamps are years away, and stay compared), and the range in
/// INVALID_TIMESTAMP's record errors, whose width is kept.
fn mask_clock(line: &str) -> String {
    // Also DescribeTransactions' start of a transaction and DescribeProducers' last timestamp
    // of a producer whose last write was a marker.
    const CLOCK_FIELDS: [&str; 4] =
        ["log_append_time_ms", "timestamp", "transaction_start_time_ms", "last_timestamp"];
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    if let Some((field, value)) = trimmed.split_once(": ") {
        if let (true, Ok(t)) =
            (CLOCK_FIELDS.contains(&field), value.trim_end_matches(',').parse::<i64>())
        {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64;
            if (t - now).abs() < 600_000 {
                return format!("{indent}{field}: <broker-clock>,");
            }
        }
    }
    const WITHIN: &str = "The timestamp should be within [";
    if let Some(at) = line.find(WITHIN) {
        let start = at + WITHIN.len();
        if let Some(len) = line[start..].find(']') {
            let ends: Vec<i64> =
                line[start..start + len].split(", ").filter_map(|n| n.parse().ok()).collect();
            if let [low, high] = ends[..] {
                let width = high.wrapping_sub(low);
                return format!(
                    "{}<clock - before>, <+ {width}>{}",
                    &line[..start],
                    &line[start + len..]
                );
            }
        }
    }
    line.to_string()
}

/// Topic ids become `<id:name>`; other uuids `<uuid>` (the nil uuid stays as it is).
fn replace_uuids(line: &str, ctx: &Ctx) -> String {
    let b = line.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if i + 36 <= b.len() && looks_like_uuid(&b[i..i + 36]) {
            let text = &line[i..i + 36];
            let u = Uuid::parse_str(text).unwrap();
            if u.is_nil() {
                out.push_str(text);
            } else if let Some((name, _)) = ctx.topic_ids.iter().find(|(_, id)| **id == u) {
                let _ = write!(out, "<id:{name}>");
            } else {
                out.push_str("<uuid>");
            }
            i += 36;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn looks_like_uuid(b: &[u8]) -> bool {
    b.iter().enumerate().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => *c == b'-',
        _ => c.is_ascii_hexdigit(),
    })
}

/// A line diff of two texts (longest common subsequence), `-` for Kafka, `+` for minikafka,
/// with two lines of context.
pub fn diff(kafka: &str, ours: &str) -> String {
    let a: Vec<&str> = kafka.lines().collect();
    let b: Vec<&str> = ours.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] =
                if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    let mut out = String::new();
    for (k, (op, l)) in ops.iter().enumerate() {
        let near = ops[k.saturating_sub(2)..(k + 3).min(ops.len())].iter().any(|(o, _)| *o != ' ');
        if *op != ' ' || near {
            let _ = writeln!(out, "{op} {l}");
        }
    }
    out
}
