//! The broker's state and request dispatch: one handler module per API, each turning a typed
//! request into a typed response against this state. No socket I/O happens here.
//!
//! `handle` takes one complete request frame and appends one complete response frame (size
//! prefix included) to the connection's output buffer, or nothing for acks=0 produce.
//! Appends are buffered in the partition logs; `end_turn` writes them before the event loop
//! sends any response of the turn, which is what makes an acknowledgement mean "in the file".

mod acls;
mod add_offsets_to_txn;
mod add_partitions_to_txn;
#[cfg(test)]
mod alloc_tests;
mod alter_configs;
mod alter_user_scram_credentials;
pub mod api_versions;
mod broker_configs;
mod consumer_group_describe;
mod consumer_group_heartbeat;
mod create_acls;
mod create_partitions;
mod create_topics;
mod delete_acls;
mod delete_groups;
mod delete_records;
mod delete_topics;
mod describe_acls;
mod describe_cluster;
mod describe_configs;
mod describe_groups;
mod describe_log_dirs;
mod describe_producers;
mod describe_topic_partitions;
mod describe_transactions;
mod describe_user_scram_credentials;
mod end_txn;
mod features;
pub use features::parse as parse_feature;
mod fetch;
mod find_coordinator;
mod group_offsets;
mod heartbeat;
mod init_producer_id;
mod join_group;
mod leave_group;
mod list_groups;
mod list_offsets;
mod list_transactions;
mod metadata;
mod offset_commit;
mod offset_delete;
mod offset_fetch;
mod offset_for_leader_epoch;
mod produce;
mod sasl;
mod scram_users;
mod sync_group;
mod topics;
mod txn_log;
mod txn_markers;
mod txn_offset_commit;
mod txn_verify;
mod waiting;

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::groups::{Completion, Coordinator, GroupConfig, Responder};
use crate::metadata::{self as kraft, log::MetadataLog, Cache};
use crate::protocol::apis::{self, ApiSpec};
use crate::protocol::codec::{DecodeError, Put, Reader};
use crate::protocol::header::{self, RequestHeader};
use crate::protocol::output::Output;
use crate::protocol::{api_versions::ApiVersionsResponse, error};
use crate::storage::{LogConfig, LogId, LogManager};
use group_offsets::load_committed_offsets;

/// What a handler did with a request it decoded.
pub enum Reply {
    /// A response body was encoded.
    Sent,
    /// The request wants no response (Produce with acks=0).
    Silent,
    /// No response; the connection is closed once what was queued before is sent.
    Close,
    /// The request must wait until `deadline` or an append to one of `watch`.
    Park { deadline: Instant, watch: Vec<LogId> },
    /// The group coordinator holds the request and answers it later (JoinGroup, SyncGroup).
    Held,
}

/// The request being handled: where it came from and how to answer it later.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext {
    pub conn: usize,
    pub peer: SocketAddr,
    pub correlation_id: i32,
}

impl RequestContext {
    pub fn responder(&self, version: i16) -> Responder {
        Responder { conn: self.conn, correlation_id: self.correlation_id, version }
    }
}

/// What became of a request frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Answered (or needing no answer): the connection's next request may be handled.
    Done,
    /// Waiting: handle nothing more from this connection until its answer comes from
    /// [`Broker::end_turn`].
    Parked,
    /// Answered, and the connection must close once the answer is sent (a failed SASL
    /// authentication, as Kafka closes it).
    CloseAfterResponse(String),
}

/// What the end of a turn asks of the event loop.
#[derive(Default)]
pub struct TurnEnd {
    /// Connections to close before anything more is sent to them.
    pub close: Vec<usize>,
    /// Answers to parked requests, each a whole response frame, for their connections.
    pub ready: Vec<(usize, Output)>,
    /// (connection, position in its output) of produce answers whose appends could not be
    /// written: the partition response there becomes KAFKA_STORAGE_ERROR before it is sent
    /// (see [`withdraw_produce_answer`]).
    pub withdrawn: Vec<(usize, usize)>,
}

/// Turns the partition produce response whose error code is at `at` in `out` into Kafka's
/// answer to a write that failed: KAFKA_STORAGE_ERROR, base offset and log append time -1.
pub fn withdraw_produce_answer(out: &mut [u8], at: usize) {
    if let Some(b) = out.get_mut(at..at + 18) {
        b[..2].copy_from_slice(&crate::protocol::error::KAFKA_STORAGE_ERROR.to_be_bytes());
        b[2..].fill(0xff);
    }
}

/// The reason a connection must be closed, for the log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close(pub String);

pub struct Broker {
    pub config: Config,
    pub cluster_id: String,
    pub meta: Cache,
    pub meta_log: MetadataLog,
    pub logs: LogManager,
    /// The partition responses of the produce being answered, kept for their capacity.
    produce_responses: Vec<crate::protocol::produce::PartitionProduceResponse>,
    /// A batch being stamped with its log append time, kept for its capacity.
    produce_scratch: Vec<u8>,
    fetch_scratch: fetch::Scratch,
    /// (connection, log) for every append acknowledged this turn.
    turn_acks: Vec<(usize, LogId)>,
    /// (connection, log, position of the answer's error code in the connection's output)
    /// for every produce acknowledged this turn: its answer is withdrawn if the write fails.
    produce_acks: Vec<(usize, LogId, usize)>,
    /// Per partition of the produce being answered: the log it appended to; kept for capacity.
    produce_appended: Vec<Option<LogId>>,
    /// Where the produce being answered encoded each partition; kept for capacity.
    produce_positions: Vec<usize>,
    waiting: waiting::Waiting,
    /// While a parked request is handled again: the deadline it already had.
    rehandle_deadline: Option<Instant>,
    written: Vec<LogId>,
    failed: Vec<LogId>,
    pub groups: Coordinator,
    /// The request being handled.
    ctx: RequestContext,
    /// Producer ids recorded in the metadata log and not yet handed out.
    producer_ids: std::ops::Range<i64>,
    /// The transaction coordinator's state, kept in `__transaction_state`.
    pub txn: crate::txn::TxnCoordinator,
    /// The listener (index in `config.listeners`) of the request being handled.
    listener: usize,
    /// The principal of the request being handled (`User:ANONYMOUS` on PLAINTEXT).
    principal: String,
    pub authorizer: crate::security::acl::Authorizer,
    /// When ongoing transactions are next checked against their timeouts.
    next_txn_timeout_check: Instant,
    /// When transactional ids are next checked against `transactional.id.expiration.ms`.
    next_txn_expiration_check: Instant,
    /// Logs the background path wrote (markers of a timed-out transaction): the parked
    /// requests watching them are looked at in the next turn.
    background_written: Vec<LogId>,
}

impl Broker {
    /// The host and port the request's listener advertises: a client is told to come back
    /// the way it came (a SASL client to the SASL listener).
    pub(crate) fn advertised(&self) -> (&str, u16) {
        let l = &self.config.listeners[self.listener.min(self.config.listeners.len() - 1)];
        (&l.advertised_host, l.advertised_port)
    }

    /// Opens (formatting it if needed) the log directory, replays the metadata log and opens
    /// every partition it names.
    pub fn open(config: Config) -> io::Result<Broker> {
        let started = Instant::now();
        let props = kraft::format_log_dir(&config.log_dir, config.node_id)?;
        if props.node_id != config.node_id {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: stored node.id {} does not match configured node.id {}",
                    config.log_dir.display(),
                    props.node_id,
                    config.node_id
                ),
            ));
        }
        let (meta, meta_log) = kraft::load(&config.log_dir)?;
        let config = crate::broker_config::in_force(&config, &meta);
        let authorizer = acls::from_config(&config)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let mut logs = LogManager::new(
            &config.log_dir,
            config.log_config(),
            config.retention_schedule(),
            config.cleaner_config(),
        );
        for t in meta.topics() {
            for p in &t.partitions {
                logs.open(&t.name, &t.topic_id, p.partition_id, p.leader_epoch)?;
            }
            if let Some(over) = meta.topic_configs(&t.name) {
                let cfg = crate::topic_config::log_config(&config, Some(over));
                logs.set_topic_config(&t.name, offsets_log_config(&t.name, cfg));
            }
        }
        // From here on the logs change: a crash must not pass for the clean shutdown that
        // a marker left by the last run (this broker's or Kafka's) announces.
        crate::storage::checkpoint::clear_clean_shutdown(&config.log_dir)?;
        let mut groups = Coordinator::new(GroupConfig {
            min_session_timeout: Duration::from_millis(config.group_min_session_timeout_ms),
            max_session_timeout: Duration::from_millis(config.group_max_session_timeout_ms),
            initial_rebalance_delay: Duration::from_millis(config.group_initial_rebalance_delay_ms),
        });
        groups.consumer_config = crate::groups::consumer::ConsumerConfig {
            heartbeat_interval_ms: config.group_consumer_heartbeat_interval_ms,
            session_timeout_ms: config.group_consumer_session_timeout_ms,
            max_size: config.group_consumer_max_size,
            assignors: config.group_consumer_assignors.clone(),
            assignment_interval_ms: config.group_consumer_assignment_interval_ms,
        };
        // First: completing a prepared transaction writes its markers, which may commit
        // offsets in `__consumer_offsets`.
        let mut txn = txn_log::load_transactions(&meta, &mut logs)?;
        load_committed_offsets(&meta, &mut logs, &mut groups, &mut txn)?;
        let txn_check_every = Duration::from_millis(
            config.transaction_abort_timed_out_transaction_cleanup_interval_ms,
        );
        let txn_expire_every = Duration::from_millis(
            config.transaction_remove_expired_transaction_cleanup_interval_ms,
        );
        log::debug!("log directory loaded in {:?}", started.elapsed());
        Ok(Broker {
            config,
            cluster_id: props.cluster_id,
            meta,
            meta_log,
            logs,
            produce_responses: Vec::new(),
            produce_scratch: Vec::new(),
            fetch_scratch: fetch::Scratch::default(),
            turn_acks: Vec::new(),
            produce_acks: Vec::new(),
            produce_appended: Vec::new(),
            produce_positions: Vec::new(),
            waiting: waiting::Waiting::default(),
            rehandle_deadline: None,
            written: Vec::new(),
            failed: Vec::new(),
            producer_ids: 0..0,
            listener: 0,
            principal: crate::security::session::ANONYMOUS.to_string(),
            authorizer,
            txn,
            next_txn_timeout_check: Instant::now() + txn_check_every,
            next_txn_expiration_check: Instant::now() + txn_expire_every,
            background_written: Vec::new(),
            groups,
            ctx: RequestContext {
                conn: usize::MAX,
                peer: SocketAddr::from(([0, 0, 0, 0], 0)),
                correlation_id: 0,
            },
        })
    }

    /// Handles one request frame (without its size prefix) from connection `conn`.
    pub fn handle(
        &mut self,
        conn: usize,
        peer: SocketAddr,
        frame: &[u8],
        out: &mut Output,
    ) -> Result<Handled, Close> {
        let mut r = Reader::new(frame);
        let (api_key, api_version, correlation_id) =
            RequestHeader::decode_prefix(&mut r.clone())
                .map_err(|e| Close(format!("unreadable request header: {e}")))?;
        let Some(spec) = apis::spec(api_key) else {
            return Err(Close(format!("unknown api key {api_key}")));
        };
        if !spec.supports(api_version) {
            if api_key == apis::API_VERSIONS {
                // Answer in v0, which every client can read, listing the ApiVersions range
                // (as Kafka does) so the client can retry with a version we speak.
                let at = begin_response(out, correlation_id, false);
                ApiVersionsResponse {
                    error_code: error::UNSUPPORTED_VERSION,
                    api_keys: std::slice::from_ref(spec),
                    throttle_time_ms: 0,
                    features: None,
                }
                .encode(0, out);
                finish_response(out, at);
                return Ok(Handled::Done);
            }
            return Err(Close(format!("{} v{api_version} is not supported", spec.name)));
        }
        let header = RequestHeader::decode(&mut r, spec.is_flexible(api_version))
            .map_err(|e| Close(format!("{} v{api_version}: bad request header: {e}", spec.name)))?;
        self.ctx = RequestContext { conn, peer, correlation_id };
        let at = begin_response(
            out,
            correlation_id,
            header::response_header_flexible(api_key, api_version),
        );
        let body_at = out.len();
        let result = match api_key {
            apis::PRODUCE => produce::handle(self, conn, &mut r, api_version, out),
            apis::FETCH => fetch::handle(self, &mut r, api_version, out),
            apis::LIST_OFFSETS => list_offsets::handle(self, &mut r, api_version, out),
            apis::METADATA => metadata::handle(self, &mut r, api_version, out),
            apis::CREATE_TOPICS => create_topics::handle(self, &mut r, api_version, out),
            apis::DELETE_TOPICS => delete_topics::handle(self, &mut r, api_version, out),
            apis::INIT_PRODUCER_ID => init_producer_id::handle(self, &mut r, api_version, out),
            apis::ADD_PARTITIONS_TO_TXN => {
                add_partitions_to_txn::handle(self, &mut r, api_version, out)
            }
            apis::ADD_OFFSETS_TO_TXN => add_offsets_to_txn::handle(self, &mut r, api_version, out),
            apis::END_TXN => end_txn::handle(self, &mut r, api_version, out),
            apis::TXN_OFFSET_COMMIT => txn_offset_commit::handle(self, &mut r, api_version, out),
            apis::DESCRIBE_CONFIGS => describe_configs::handle(self, &mut r, api_version, out),
            apis::ALTER_CONFIGS => alter_configs::handle(self, &mut r, api_version, false, out),
            apis::INCREMENTAL_ALTER_CONFIGS => {
                alter_configs::handle(self, &mut r, api_version, true, out)
            }
            apis::DESCRIBE_CLUSTER => describe_cluster::handle(self, &mut r, api_version, out),
            apis::CREATE_PARTITIONS => create_partitions::handle(self, &mut r, api_version, out),
            apis::DELETE_GROUPS => delete_groups::handle(self, &mut r, api_version, out),
            apis::OFFSET_DELETE => offset_delete::handle(self, &mut r, api_version, out),
            apis::OFFSET_COMMIT => offset_commit::handle(self, &mut r, api_version, out),
            apis::OFFSET_FETCH => offset_fetch::handle(self, &mut r, api_version, out),
            apis::FIND_COORDINATOR => find_coordinator::handle(self, &mut r, api_version, out),
            apis::JOIN_GROUP => {
                join_group::handle(self, header.client_id, &mut r, api_version, out)
            }
            apis::SYNC_GROUP => sync_group::handle(self, &mut r, api_version, out),
            apis::CONSUMER_GROUP_HEARTBEAT => {
                consumer_group_heartbeat::handle(self, header.client_id, &mut r, api_version, out)
            }
            apis::CONSUMER_GROUP_DESCRIBE => {
                consumer_group_describe::handle(self, &mut r, api_version, out)
            }
            apis::HEARTBEAT => heartbeat::handle(self, &mut r, api_version, out),
            apis::LEAVE_GROUP => leave_group::handle(self, &mut r, api_version, out),
            apis::LIST_GROUPS => list_groups::handle(self, &mut r, api_version, out),
            apis::DESCRIBE_GROUPS => describe_groups::handle(self, &mut r, api_version, out),
            apis::API_VERSIONS => api_versions::handle(self, &mut r, api_version, out),
            apis::DELETE_RECORDS => delete_records::handle(self, &mut r, api_version, out),
            apis::OFFSET_FOR_LEADER_EPOCH => {
                offset_for_leader_epoch::handle(self, &mut r, api_version, out)
            }
            apis::DESCRIBE_LOG_DIRS => describe_log_dirs::handle(self, &mut r, api_version, out),
            apis::DESCRIBE_PRODUCERS => describe_producers::handle(self, &mut r, api_version, out),
            apis::DESCRIBE_TRANSACTIONS => {
                describe_transactions::handle(self, &mut r, api_version, out)
            }
            apis::LIST_TRANSACTIONS => list_transactions::handle(self, &mut r, api_version, out),
            apis::DESCRIBE_TOPIC_PARTITIONS => {
                describe_topic_partitions::handle(self, &mut r, api_version, out)
            }
            apis::DESCRIBE_ACLS => describe_acls::handle(self, &mut r, api_version, out),
            apis::CREATE_ACLS => create_acls::handle(self, &mut r, api_version, out),
            apis::DELETE_ACLS => delete_acls::handle(self, &mut r, api_version, out),
            apis::DESCRIBE_USER_SCRAM_CREDENTIALS => {
                describe_user_scram_credentials::handle(self, &mut r, api_version, out)
            }
            apis::ALTER_USER_SCRAM_CREDENTIALS => {
                alter_user_scram_credentials::handle(self, &mut r, api_version, out)
            }
            apis::SASL_HANDSHAKE | apis::SASL_AUTHENTICATE => {
                return Err(Close(format!("{} outside a connection's session", spec.name)))
            }
            _ => unreachable!("every supported api has a handler"),
        };
        match result {
            Ok(Reply::Sent) => finish_response(out, at),
            Ok(Reply::Silent) => out.truncate(at),
            Ok(Reply::Close) => {
                out.truncate(at);
                return Err(Close(format!("{} v{api_version}: acks=0 request failed", spec.name)));
            }
            Ok(Reply::Held) => {
                out.truncate(at);
                return Ok(Handled::Parked);
            }
            Ok(Reply::Park { deadline, watch }) => {
                out.truncate(at);
                self.waiting.park(waiting::Parked {
                    conn,
                    peer,
                    deadline,
                    watch,
                    frame: frame.to_vec(),
                });
                return Ok(Handled::Parked);
            }
            Err(e) => {
                out.truncate(body_at);
                if !error_body(spec, api_version, error::INVALID_REQUEST, out) {
                    out.truncate(at);
                    return Err(Close(format!("{} v{api_version}: {e}", spec.name)));
                }
                log::warn!(
                    "{} v{api_version} from client {:?}: {e}; answered INVALID_REQUEST",
                    spec.name,
                    header.client_id
                );
                finish_response(out, at);
            }
        }
        Ok(Handled::Done)
    }

    /// Writes this turn's appends to the files, then answers the parked requests that the
    /// appends or the clock have made due. Connections told of an append that could not be
    /// written are to be closed before anything more is sent to them, so the client never sees
    /// that acknowledgement and retries.
    pub fn end_turn(&mut self) -> TurnEnd {
        let mut end = TurnEnd::default();
        self.written.clear();
        self.failed.clear();
        self.logs.flush(&mut self.written, &mut self.failed);
        self.written.append(&mut self.background_written);
        for (conn, log) in self.turn_acks.drain(..) {
            if self.failed.contains(&log) && !end.close.contains(&conn) {
                end.close.push(conn);
            }
        }
        for (conn, log, at) in self.produce_acks.drain(..) {
            if self.failed.contains(&log) {
                end.withdrawn.push((conn, at));
            }
        }
        if !self.waiting.is_empty() {
            let now = Instant::now();
            for p in self.waiting.due(now, &self.written) {
                self.rehandle_deadline = Some(p.deadline);
                let mut out = Output::new();
                match self.handle(p.conn, p.peer, &p.frame, &mut out) {
                    Ok(Handled::Done) => end.ready.push((p.conn, out)),
                    Ok(Handled::Parked) => {}
                    Ok(Handled::CloseAfterResponse(reason)) | Err(Close(reason)) => {
                        log::warn!("parked request failed: {reason}");
                        end.close.push(p.conn);
                    }
                }
                self.rehandle_deadline = None;
            }
        }
        let now = Instant::now();
        if self.groups.next_deadline().is_some_and(|d| d <= now) {
            for before in self.groups.tick(now) {
                let id = before.group_id.clone();
                let g = self.groups.groups.get(&id).and_then(|g| g.consumer.as_ref());
                let records = g.map(|c| c.records_since(Some(&before))).unwrap_or_default();
                if self.write_consumer_group_records(&id, &records, false) != error::NONE {
                    log::error!(
                        "consumer group {id:?}: expired members or a new target not written"
                    );
                }
            }
            self.flush_background_appends();
        }
        for c in self.groups.take_completions() {
            let (r, api_key) = match &c {
                Completion::Join(r, _) => (*r, apis::JOIN_GROUP),
                Completion::Sync(r, _) => (*r, apis::SYNC_GROUP),
            };
            let mut out = Output::new();
            let at = begin_response(
                &mut out,
                r.correlation_id,
                header::response_header_flexible(api_key, r.version),
            );
            match &c {
                Completion::Join(_, j) => join_group::encode(j, r.version, &mut out),
                Completion::Sync(_, s) => sync_group::encode(s, r.version, &mut out),
            }
            finish_response(&mut out, at);
            end.ready.push((r.conn, out));
        }
        end
    }

    /// The logs' background work, after the turn's answers have gone out (so none waits
    /// behind it): a slice of retention, of the cleaner, and the flusher and file deletions.
    pub fn background(&mut self) {
        let now = Instant::now();
        self.logs.retention_tick(now);
        self.logs.cleaner_tick(now);
        self.logs.housekeeping_tick(now);
        if now >= self.next_txn_timeout_check {
            self.abort_timed_out_transactions();
            self.next_txn_timeout_check = now
                + Duration::from_millis(
                    self.config.transaction_abort_timed_out_transaction_cleanup_interval_ms,
                );
        }
        if now >= self.next_txn_expiration_check {
            self.remove_expired_transactional_ids();
            self.next_txn_expiration_check = now
                + Duration::from_millis(
                    self.config.transaction_remove_expired_transaction_cleanup_interval_ms,
                );
        }
    }

    /// Bytes appended this turn and not yet written.
    pub fn pending_append_bytes(&self) -> usize {
        self.logs.pending_bytes()
    }

    /// Stops as Kafka stops: every append written, and the log directory left in the state
    /// Kafka leaves it in after a clean shutdown.
    pub fn shutdown(&mut self) -> io::Result<()> {
        self.logs.close_all()
    }

    /// How long the event loop may sleep before a parked request, a group timer, retention
    /// or the log cleaner is due.
    pub fn next_timeout(&mut self) -> Option<Duration> {
        if !self.background_written.is_empty() {
            return Some(Duration::ZERO);
        }
        let now = Instant::now();
        let next = [self.waiting.next_deadline(), self.groups.next_deadline()]
            .into_iter()
            .flatten()
            .chain(self.logs.next_cleaning())
            .chain(self.logs.next_housekeeping())
            .chain([self.next_txn_timeout_check, self.next_txn_expiration_check])
            .fold(self.logs.next_retention(), Instant::min);
        Some(waiting::until(next, now))
    }

    /// Forgets whatever connection `conn` was waiting for.
    pub fn connection_closed(&mut self, conn: usize) {
        self.waiting.forget(conn);
        self.groups.connection_closed(conn);
    }

    /// The deadline of a request that may wait `max_wait_ms` from now; `None` if it may not
    /// wait at all (no wait asked, or a parked request whose time is up).
    fn wait_deadline(&self, max_wait_ms: i32) -> Option<Instant> {
        let now = Instant::now();
        let deadline = match self.rehandle_deadline {
            Some(d) => d,
            None if max_wait_ms > 0 => now + std::time::Duration::from_millis(max_wait_ms as u64),
            None => return None,
        };
        (deadline > now).then_some(deadline)
    }
}

/// Every topic operation (READ through ALTER_CONFIGS) allowed: there is no authorizer.
pub(crate) const ALL_TOPIC_OPERATIONS: i32 = 0x0df8;

fn api_versions_error(code: i16) -> ApiVersionsResponse<'static> {
    ApiVersionsResponse {
        error_code: code,
        api_keys: apis::SUPPORTED,
        throttle_time_ms: 0,
        features: None,
    }
}

/// Encodes a body carrying only a top-level `code`, for the APIs whose response has one at
/// `version`; false for the others, whose connection is closed instead.
fn error_body(spec: &ApiSpec, version: i16, code: i16, out: &mut Output) -> bool {
    match spec.key {
        apis::API_VERSIONS => api_versions_error(code).encode(version, out),
        apis::FETCH if version >= 7 => {
            let body = crate::protocol::fetch::FetchResponse {
                throttle_time_ms: 0,
                error_code: code,
                session_id: 0,
                request: None,
                partitions: &[],
                read: &[],
            };
            // Without a request to walk, encoding cannot fail.
            if body.encode(version, out).is_err() {
                return false;
            }
        }
        _ => return false,
    }
    true
}

/// Reserves the size prefix and writes the response header; returns where the frame starts.
fn begin_response(out: &mut Vec<u8>, correlation_id: i32, flexible: bool) -> usize {
    let at = out.len();
    out.put_i32(0);
    header::encode_response_header(out, correlation_id, flexible);
    at
}

fn finish_response(out: &mut Output, at: usize) {
    let size = (out.len_since(at) - 4) as i32;
    out[at..at + 4].copy_from_slice(&size.to_be_bytes());
}

type HandlerResult = Result<Reply, DecodeError>;

/// `config` as the partitions of `topic` keep it: Kafka creates `__consumer_offsets`
/// compacted, so committed offsets are never retained by time, whatever the broker's
/// defaults say.
pub(crate) fn offsets_log_config(topic: &str, mut config: LogConfig) -> LogConfig {
    if topic == crate::groups::offsets::TOPIC {
        config.delete = false;
    }
    config
}
