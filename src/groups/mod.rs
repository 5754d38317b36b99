//! The classic group coordinator: membership, rebalances and committed offsets of consumer
//! groups, as Kafka's `GroupCoordinator` runs them.
//!
//! A group moves Empty -> PreparingRebalance (members (re)join) -> CompletingRebalance (the
//! leader computes assignments) -> Stable (SyncGroup handed them out) and back to
//! PreparingRebalance whenever membership changes. JoinGroup and SyncGroup answers wait for the
//! rest of the group: they are held here as [`Responder`]s and come back from [`Coordinator::tick`]
//! and the other calls as [`Completion`]s. Sessions and rebalances run on deadlines the event
//! loop sleeps towards. Nothing here touches sockets or files.

pub mod offsets;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::protocol::error;

/// Where a held answer goes: the connection and the request it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Responder {
    pub conn: usize,
    pub correlation_id: i32,
    pub version: i16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
}

impl GroupState {
    /// The name Kafka uses in DescribeGroups and ListGroups.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Member {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    /// (protocol name, metadata), in the member's order of preference.
    pub protocols: Vec<(String, Vec<u8>)>,
    pub assignment: Vec<u8>,
    session_deadline: Instant,
    awaiting_join: Option<Responder>,
    awaiting_sync: Option<Responder>,
}

impl Member {
    fn metadata_for(&self, protocol: &str) -> &[u8] {
        self.protocols.iter().find(|(n, _)| n == protocol).map_or(&[], |(_, m)| m)
    }
}

#[derive(Debug)]
pub struct Group {
    pub group_id: String,
    pub state: GroupState,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: Option<String>,
    /// By member id, in join order (BTreeMap keeps ids sorted; join order is in `order`).
    pub members: BTreeMap<String, Member>,
    order: Vec<String>,
    /// Members told MEMBER_ID_REQUIRED, with the deadline for their second join.
    pending: HashMap<String, Instant>,
    /// When the current rebalance completes even if members are missing.
    rebalance_deadline: Option<Instant>,
    /// The initial delay of a rebalance from Empty: no completion before this.
    join_not_before: Option<Instant>,
    /// Committed offsets by (topic, partition).
    pub offsets: BTreeMap<(String, i32), offsets::CommittedOffset>,
}

impl Group {
    fn new(group_id: &str) -> Self {
        Group {
            group_id: group_id.to_string(),
            state: GroupState::Empty,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader: None,
            members: BTreeMap::new(),
            order: Vec::new(),
            pending: HashMap::new(),
            rebalance_deadline: None,
            join_not_before: None,
            offsets: BTreeMap::new(),
        }
    }

    /// A protocol every member supports, preferring the members' first choices.
    fn select_protocol(&self) -> Option<String> {
        let first = self.members.values().next()?;
        let candidates: Vec<&String> = first
            .protocols
            .iter()
            .map(|(n, _)| n)
            .filter(|n| self.members.values().all(|m| m.protocols.iter().any(|(p, _)| p == *n)))
            .collect();
        // Each member votes for its most preferred candidate; most votes wins, ties to the
        // first member's order.
        let mut votes: Vec<(usize, &String)> = candidates.iter().map(|c| (0, *c)).collect();
        for m in self.members.values() {
            if let Some((name, _)) = m.protocols.iter().find(|(p, _)| candidates.contains(&p)) {
                if let Some(v) = votes.iter_mut().find(|(_, c)| *c == name) {
                    v.0 += 1;
                }
            }
        }
        let best = votes.iter().map(|(n, _)| *n).max()?;
        votes.iter().find(|(n, _)| *n == best).map(|(_, c)| (*c).clone())
    }

    fn supports(&self, protocol_type: &str, protocols: &[(String, Vec<u8>)]) -> bool {
        if self.members.is_empty() {
            return !protocols.is_empty();
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols.iter().any(|(p, _)| {
                self.members.values().all(|m| m.protocols.iter().any(|(q, _)| q == p))
            })
    }

    fn max_rebalance_timeout(&self) -> Duration {
        self.members.values().map(|m| m.rebalance_timeout).max().unwrap_or_default()
    }
}

/// A held JoinGroup or SyncGroup answer that can now be sent.
#[derive(Debug, Clone)]
pub enum Completion {
    Join(Responder, JoinResult),
    Sync(Responder, SyncResult),
}

#[derive(Debug, Clone, Default)]
pub struct JoinResult {
    pub error_code: i16,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: String,
    pub member_id: String,
    /// (member_id, group_instance_id, metadata): for the leader only.
    pub members: Vec<(String, Option<String>, Vec<u8>)>,
}

impl JoinResult {
    fn error(code: i16, member_id: &str) -> Self {
        JoinResult {
            error_code: code,
            generation_id: -1,
            member_id: member_id.to_string(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SyncResult {
    pub error_code: i16,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: Vec<u8>,
}

/// A JoinGroup request, version differences already resolved.
#[derive(Debug, Clone)]
pub struct JoinArgs {
    pub group_id: String,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    pub protocol_type: String,
    pub protocols: Vec<(String, Vec<u8>)>,
    /// v4+: a new member first gets MEMBER_ID_REQUIRED and its id.
    pub require_known_member_id: bool,
}

/// A SyncGroup request.
#[derive(Debug, Clone)]
pub struct SyncArgs<'a> {
    pub group_id: &'a str,
    pub generation_id: i32,
    pub member_id: &'a str,
    pub protocol_type: Option<&'a str>,
    pub protocol_name: Option<&'a str>,
    /// (member id, assignment): sent by the leader only.
    pub assignments: Vec<(String, Vec<u8>)>,
    pub group_instance_id: Option<&'a str>,
}

/// Either answered now, or held until the group moves on.
#[derive(Debug, Clone)]
pub enum Answer<T> {
    Now(T),
    Held,
}

#[derive(Debug, Clone, Copy)]
pub struct GroupConfig {
    pub min_session_timeout: Duration,
    pub max_session_timeout: Duration,
    pub initial_rebalance_delay: Duration,
}

pub struct Coordinator {
    config: GroupConfig,
    pub groups: BTreeMap<String, Group>,
    completions: Vec<Completion>,
    next_member: u64,
}

impl Coordinator {
    pub fn new(config: GroupConfig) -> Self {
        Coordinator { config, groups: BTreeMap::new(), completions: Vec::new(), next_member: 0 }
    }

    /// Answers held earlier that can now be sent.
    pub fn take_completions(&mut self) -> Vec<Completion> {
        std::mem::take(&mut self.completions)
    }

    fn new_member_id(&mut self, client_id: &str) -> String {
        self.next_member += 1;
        let u = crate::uuid::random();
        let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{client_id}-{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    pub fn join(&mut self, a: JoinArgs, responder: Responder, now: Instant) -> Answer<JoinResult> {
        if a.group_id.is_empty() {
            return Answer::Now(JoinResult::error(error::INVALID_GROUP_ID, &a.member_id));
        }
        let session = Duration::from_millis(a.session_timeout_ms.max(0) as u64);
        if session < self.config.min_session_timeout || session > self.config.max_session_timeout {
            return Answer::Now(JoinResult::error(error::INVALID_SESSION_TIMEOUT, &a.member_id));
        }
        if !a.member_id.is_empty() && !self.groups.contains_key(&a.group_id) {
            return Answer::Now(JoinResult::error(error::UNKNOWN_MEMBER_ID, &a.member_id));
        }
        let group =
            self.groups.entry(a.group_id.clone()).or_insert_with(|| Group::new(&a.group_id));
        if !group.supports(&a.protocol_type, &a.protocols) {
            return Answer::Now(JoinResult::error(
                error::INCONSISTENT_GROUP_PROTOCOL,
                &a.member_id,
            ));
        }
        let mut member_id = a.member_id.clone();
        if member_id.is_empty() {
            // Ids are named after the instance for static members, the client otherwise.
            let prefix = a.group_instance_id.as_deref().unwrap_or(&a.client_id).to_string();
            let id = self.new_member_id(&prefix);
            let group = self.groups.get_mut(&a.group_id).expect("just inserted");
            let existing = a.group_instance_id.as_ref().and_then(|i| {
                group
                    .members
                    .values()
                    .find(|m| m.group_instance_id.as_ref() == Some(i))
                    .map(|m| m.member_id.clone())
            });
            if let Some(old) = existing {
                // A static member coming back replaces its old incarnation under a new id,
                // keeping its assignment; the old id is fenced from now on.
                let unchanged = group.members[&old].protocols == a.protocols;
                replace_member(group, &old, &id);
                log::info!("group {}: static member {old} replaced by {id}", a.group_id);
                if group.state == GroupState::Stable && unchanged {
                    let m = group.members.get_mut(&id).expect("just replaced");
                    m.session_deadline = now + session;
                    return Answer::Now(join_result(group, &id));
                }
            } else if a.require_known_member_id && a.group_instance_id.is_none() {
                group.pending.insert(id.clone(), now + session);
                return Answer::Now(JoinResult::error(error::MEMBER_ID_REQUIRED, &id));
            }
            member_id = id;
        }
        let group = self.groups.get_mut(&a.group_id).expect("exists");
        let known = group.members.contains_key(&member_id);
        if !known && group.pending.remove(&member_id).is_none() && !a.member_id.is_empty() {
            return Answer::Now(JoinResult::error(error::UNKNOWN_MEMBER_ID, &member_id));
        }
        let changed = match group.members.get(&member_id) {
            Some(m) => m.protocols != a.protocols,
            None => true,
        };
        let member = group.members.entry(member_id.clone()).or_insert_with(|| Member {
            member_id: member_id.clone(),
            group_instance_id: a.group_instance_id.clone(),
            client_id: a.client_id.clone(),
            client_host: a.client_host.clone(),
            session_timeout: session,
            rebalance_timeout: session,
            protocols: Vec::new(),
            assignment: Vec::new(),
            session_deadline: now + session,
            awaiting_join: None,
            awaiting_sync: None,
        });
        if !known {
            group.order.push(member_id.clone());
        }
        member.protocols = a.protocols;
        member.session_timeout = session;
        member.rebalance_timeout =
            Duration::from_millis(a.rebalance_timeout_ms.max(0) as u64).max(session);
        member.session_deadline = now + session;
        if group.protocol_type.is_none() {
            group.protocol_type = Some(a.protocol_type);
        }
        let is_leader = group.leader.as_deref() == Some(member_id.as_str());
        match group.state {
            GroupState::Stable | GroupState::CompletingRebalance if !changed && !is_leader => {
                // A follower rejoining with nothing new: tell it the current generation.
                return Answer::Now(join_result(group, &member_id));
            }
            GroupState::PreparingRebalance => {}
            _ => self.prepare_rebalance(&a.group_id, now),
        }
        let group = self.groups.get_mut(&a.group_id).expect("exists");
        group.members.get_mut(&member_id).expect("added").awaiting_join = Some(responder);
        self.try_complete_join(&a.group_id, now);
        Answer::Held
    }

    fn prepare_rebalance(&mut self, group_id: &str, now: Instant) {
        let delay = self.config.initial_rebalance_delay;
        let Some(group) = self.groups.get_mut(group_id) else { return };
        // Members waiting for a SyncGroup answer must rejoin: tell them so.
        for m in group.members.values_mut() {
            if let Some(r) = m.awaiting_sync.take() {
                self.completions.push(Completion::Sync(
                    r,
                    SyncResult { error_code: error::REBALANCE_IN_PROGRESS, ..Default::default() },
                ));
            }
        }
        let from_empty = group.state == GroupState::Empty;
        group.state = GroupState::PreparingRebalance;
        let timeout = group.max_rebalance_timeout();
        group.rebalance_deadline = Some(now + timeout.max(delay));
        group.join_not_before = from_empty.then(|| now + delay);
        log::debug!("group {group_id}: preparing rebalance (generation {})", group.generation_id);
    }

    /// Completes the join phase when every member has rejoined, or at the deadline without
    /// the ones that did not.
    fn try_complete_join(&mut self, group_id: &str, now: Instant) {
        let Some(group) = self.groups.get_mut(group_id) else { return };
        if group.state != GroupState::PreparingRebalance {
            return;
        }
        let all_joined = group.members.values().all(|m| m.awaiting_join.is_some());
        let delayed = group.join_not_before.is_some_and(|t| now < t);
        let expired = group.rebalance_deadline.is_some_and(|t| now >= t);
        if !expired && (delayed || !all_joined) {
            return;
        }
        let gone: Vec<String> = group
            .members
            .values()
            .filter(|m| m.awaiting_join.is_none())
            .map(|m| m.member_id.clone())
            .collect();
        for id in &gone {
            group.members.remove(id);
            log::info!("group {group_id}: member {id} removed: it did not rejoin in time");
        }
        group.order.retain(|id| group.members.contains_key(id));
        group.generation_id += 1;
        group.rebalance_deadline = None;
        group.join_not_before = None;
        if group.members.is_empty() {
            group.state = GroupState::Empty;
            group.protocol_name = None;
            group.leader = None;
            return;
        }
        group.protocol_name = group.select_protocol();
        if group.leader.as_ref().is_none_or(|l| !group.members.contains_key(l)) {
            group.leader = group.order.first().cloned();
        }
        group.state = GroupState::CompletingRebalance;
        log::info!(
            "group {group_id}: generation {} with {} members, leader {:?}",
            group.generation_id,
            group.members.len(),
            group.leader
        );
        let ids: Vec<String> = group.members.keys().cloned().collect();
        for id in ids {
            let result = join_result(group, &id);
            let m = group.members.get_mut(&id).expect("listed");
            m.session_deadline = now + m.session_timeout;
            if let Some(r) = m.awaiting_join.take() {
                self.completions.push(Completion::Join(r, result));
            }
        }
    }

    pub fn sync(
        &mut self,
        a: SyncArgs<'_>,
        responder: Responder,
        now: Instant,
    ) -> Answer<SyncResult> {
        let SyncArgs {
            group_id,
            generation_id,
            member_id,
            protocol_type,
            protocol_name,
            assignments,
            group_instance_id,
        } = a;
        let err = |code| Answer::Now(SyncResult { error_code: code, ..Default::default() });
        let Some(group) = self.groups.get_mut(group_id) else {
            return err(error::UNKNOWN_MEMBER_ID);
        };
        if fenced(group, member_id, group_instance_id) {
            return err(error::FENCED_INSTANCE_ID);
        }
        if !group.members.contains_key(member_id) {
            return err(error::UNKNOWN_MEMBER_ID);
        }
        if generation_id != group.generation_id {
            return err(error::ILLEGAL_GENERATION);
        }
        if protocol_type.is_some_and(|p| Some(p) != group.protocol_type.as_deref())
            || protocol_name.is_some_and(|p| Some(p) != group.protocol_name.as_deref())
        {
            return err(error::INCONSISTENT_GROUP_PROTOCOL);
        }
        let m = group.members.get_mut(member_id).expect("checked");
        m.session_deadline = now + m.session_timeout;
        match group.state {
            GroupState::Empty | GroupState::PreparingRebalance => err(error::REBALANCE_IN_PROGRESS),
            GroupState::Stable => Answer::Now(sync_result(group, member_id)),
            GroupState::CompletingRebalance => {
                group.members.get_mut(member_id).expect("checked").awaiting_sync = Some(responder);
                if group.leader.as_deref() == Some(member_id) {
                    for m in group.members.values_mut() {
                        m.assignment = assignments
                            .iter()
                            .find(|(id, _)| *id == m.member_id)
                            .map(|(_, a)| a.clone())
                            .unwrap_or_default();
                    }
                    group.state = GroupState::Stable;
                    let ids: Vec<String> = group.members.keys().cloned().collect();
                    for id in ids {
                        let result = sync_result(group, &id);
                        if let Some(r) =
                            group.members.get_mut(&id).and_then(|m| m.awaiting_sync.take())
                        {
                            self.completions.push(Completion::Sync(r, result));
                        }
                    }
                }
                Answer::Held
            }
        }
    }

    pub fn heartbeat(
        &mut self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        instance: Option<&str>,
        now: Instant,
    ) -> i16 {
        let Some(group) = self.groups.get_mut(group_id) else { return error::UNKNOWN_MEMBER_ID };
        if fenced(group, member_id, instance) {
            return error::FENCED_INSTANCE_ID;
        }
        let Some(m) = group.members.get_mut(member_id) else { return error::UNKNOWN_MEMBER_ID };
        m.session_deadline = now + m.session_timeout;
        if generation_id != group.generation_id {
            return error::ILLEGAL_GENERATION;
        }
        match group.state {
            GroupState::PreparingRebalance => error::REBALANCE_IN_PROGRESS,
            GroupState::Empty => error::UNKNOWN_MEMBER_ID,
            GroupState::CompletingRebalance | GroupState::Stable => error::NONE,
        }
    }

    /// Removes members (by id, or by instance id when the id is empty); per-member errors.
    pub fn leave(
        &mut self,
        group_id: &str,
        members: &[(String, Option<String>)],
        now: Instant,
    ) -> (i16, Vec<i16>) {
        let Some(group) = self.groups.get_mut(group_id) else {
            return (error::NONE, vec![error::UNKNOWN_MEMBER_ID; members.len()]);
        };
        let mut errors = Vec::with_capacity(members.len());
        let mut removed = false;
        for (id, instance) in members {
            let id = if id.is_empty() {
                instance
                    .as_ref()
                    .and_then(|i| {
                        group.members.values().find(|m| m.group_instance_id.as_ref() == Some(i))
                    })
                    .map(|m| m.member_id.clone())
                    .unwrap_or_default()
            } else {
                id.clone()
            };
            if group.pending.remove(&id).is_some() {
                errors.push(error::NONE);
            } else if let Some(m) = group.members.remove(&id) {
                for r in m.awaiting_join.into_iter() {
                    self.completions.push(Completion::Join(
                        r,
                        JoinResult::error(error::UNKNOWN_MEMBER_ID, &id),
                    ));
                }
                group.order.retain(|o| *o != id);
                log::info!("group {group_id}: member {id} left");
                removed = true;
                errors.push(error::NONE);
            } else {
                errors.push(error::UNKNOWN_MEMBER_ID);
            }
        }
        if removed {
            self.membership_changed(group_id, now);
        }
        (error::NONE, errors)
    }

    fn membership_changed(&mut self, group_id: &str, now: Instant) {
        let Some(group) = self.groups.get_mut(group_id) else { return };
        match group.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                if group.members.is_empty() {
                    group.state = GroupState::Empty;
                    group.generation_id += 1;
                    group.leader = None;
                    group.protocol_name = None;
                } else {
                    self.prepare_rebalance(group_id, now);
                }
            }
            GroupState::PreparingRebalance => self.try_complete_join(group_id, now),
            GroupState::Empty => {}
        }
    }

    /// Expires sessions and completes rebalances whose time is up.
    pub fn tick(&mut self, now: Instant) {
        let ids: Vec<String> = self.groups.keys().cloned().collect();
        for id in ids {
            let group = self.groups.get_mut(&id).expect("listed");
            group.pending.retain(|_, deadline| now < *deadline);
            // Members waiting on a held answer are alive; the others must heartbeat.
            let expired: Vec<String> = group
                .members
                .values()
                .filter(|m| {
                    m.awaiting_join.is_none()
                        && m.awaiting_sync.is_none()
                        && now >= m.session_deadline
                })
                .map(|m| m.member_id.clone())
                .collect();
            for m in &expired {
                log::info!("group {id}: member {m} expired after its session timeout");
                group.members.remove(m);
                group.order.retain(|o| o != m);
            }
            if !expired.is_empty() {
                self.membership_changed(&id, now);
            }
            self.try_complete_join(&id, now);
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        for g in self.groups.values() {
            if g.state == GroupState::PreparingRebalance {
                g.rebalance_deadline.into_iter().for_each(&mut consider);
                g.join_not_before.into_iter().for_each(&mut consider);
            }
            for m in g.members.values() {
                consider(m.session_deadline);
            }
            g.pending.values().copied().for_each(&mut consider);
        }
        next
    }

    /// A closed connection gets no held answers; its members stay until their sessions end.
    pub fn connection_closed(&mut self, conn: usize) {
        for g in self.groups.values_mut() {
            for m in g.members.values_mut() {
                if m.awaiting_join.is_some_and(|r| r.conn == conn) {
                    m.awaiting_join = None;
                    m.session_deadline = Instant::now() + m.session_timeout;
                }
                if m.awaiting_sync.is_some_and(|r| r.conn == conn) {
                    m.awaiting_sync = None;
                    m.session_deadline = Instant::now() + m.session_timeout;
                }
            }
        }
    }

    /// Checks that a member may commit offsets for `generation_id`. A generation of -1 with
    /// no member id is a manual commit, allowed while the group has no members.
    pub fn check_commit(
        &mut self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        instance: Option<&str>,
        now: Instant,
    ) -> i16 {
        if group_id.is_empty() {
            return error::INVALID_GROUP_ID;
        }
        let group = self.groups.entry(group_id.to_string()).or_insert_with(|| Group::new(group_id));
        if generation_id < 0 && member_id.is_empty() {
            return if group.state == GroupState::Empty {
                error::NONE
            } else {
                error::UNKNOWN_MEMBER_ID
            };
        }
        if fenced(group, member_id, instance) {
            return error::FENCED_INSTANCE_ID;
        }
        let Some(m) = group.members.get_mut(member_id) else { return error::UNKNOWN_MEMBER_ID };
        m.session_deadline = now + m.session_timeout;
        if generation_id != group.generation_id {
            return error::ILLEGAL_GENERATION;
        }
        if group.state == GroupState::CompletingRebalance {
            return error::REBALANCE_IN_PROGRESS;
        }
        error::NONE
    }

    pub fn group_mut(&mut self, group_id: &str) -> &mut Group {
        self.groups.entry(group_id.to_string()).or_insert_with(|| Group::new(group_id))
    }
}

/// Moves member `old` to the id `new`, with its place in the join order and its leadership.
fn replace_member(group: &mut Group, old: &str, new: &str) {
    let Some(mut m) = group.members.remove(old) else { return };
    m.member_id = new.to_string();
    m.awaiting_join = None;
    m.awaiting_sync = None;
    group.members.insert(new.to_string(), m);
    for id in group.order.iter_mut().filter(|id| *id == old) {
        *id = new.to_string();
    }
    if group.leader.as_deref() == Some(old) {
        group.leader = Some(new.to_string());
    }
}

/// A request naming a static instance whose current member is someone else comes from a
/// replaced incarnation: Kafka fences it.
fn fenced(group: &Group, member_id: &str, instance: Option<&str>) -> bool {
    instance.is_some_and(|i| {
        group
            .members
            .values()
            .any(|m| m.group_instance_id.as_deref() == Some(i) && m.member_id != member_id)
    })
}

fn join_result(group: &Group, member_id: &str) -> JoinResult {
    let protocol = group.protocol_name.clone().unwrap_or_default();
    let is_leader = group.leader.as_deref() == Some(member_id);
    JoinResult {
        error_code: error::NONE,
        generation_id: group.generation_id,
        protocol_type: group.protocol_type.clone(),
        protocol_name: group.protocol_name.clone(),
        leader: group.leader.clone().unwrap_or_default(),
        member_id: member_id.to_string(),
        members: if is_leader {
            group
                .order
                .iter()
                .filter_map(|id| group.members.get(id))
                .map(|m| {
                    (
                        m.member_id.clone(),
                        m.group_instance_id.clone(),
                        m.metadata_for(&protocol).to_vec(),
                    )
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

fn sync_result(group: &Group, member_id: &str) -> SyncResult {
    SyncResult {
        error_code: error::NONE,
        protocol_type: group.protocol_type.clone(),
        protocol_name: group.protocol_name.clone(),
        assignment: group.members.get(member_id).map(|m| m.assignment.clone()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: GroupConfig = GroupConfig {
        min_session_timeout: Duration::from_millis(10),
        max_session_timeout: Duration::from_secs(60),
        initial_rebalance_delay: Duration::ZERO,
    };

    fn args(member_id: &str) -> JoinArgs {
        JoinArgs {
            group_id: "g".into(),
            member_id: member_id.into(),
            group_instance_id: None,
            client_id: "c".into(),
            client_host: "/127.0.0.1".into(),
            session_timeout_ms: 1000,
            rebalance_timeout_ms: 1000,
            protocol_type: "consumer".into(),
            protocols: vec![("range".into(), b"meta".to_vec())],
            require_known_member_id: true,
        }
    }

    fn sargs<'a>(
        g: &'a str,
        generation_id: i32,
        member_id: &'a str,
        assignments: Vec<(String, Vec<u8>)>,
    ) -> SyncArgs<'a> {
        SyncArgs {
            group_id: g,
            generation_id,
            member_id,
            protocol_type: None,
            protocol_name: None,
            assignments,
            group_instance_id: None,
        }
    }

    fn r(conn: usize) -> Responder {
        Responder { conn, correlation_id: conn as i32, version: 9 }
    }

    /// Joins a new member through MEMBER_ID_REQUIRED; returns its id.
    fn join_new(c: &mut Coordinator, conn: usize, now: Instant) -> String {
        let Answer::Now(first) = c.join(args(""), r(conn), now) else {
            panic!("first join is answered")
        };
        assert_eq!(first.error_code, error::MEMBER_ID_REQUIRED);
        assert!(matches!(c.join(args(&first.member_id), r(conn), now), Answer::Held));
        first.member_id
    }

    fn joins(c: &mut Coordinator) -> Vec<(usize, JoinResult)> {
        c.take_completions()
            .into_iter()
            .filter_map(|x| match x {
                Completion::Join(r, j) => Some((r.conn, j)),
                Completion::Sync(..) => None,
            })
            .collect()
    }

    #[test]
    fn two_members_rebalance_sync_and_leave() {
        let mut c = Coordinator::new(CFG);
        let t0 = Instant::now();
        let a = join_new(&mut c, 1, t0);
        let done = joins(&mut c);
        assert_eq!(done.len(), 1, "a lone member completes the join at once");
        assert_eq!((done[0].1.generation_id, done[0].1.leader.as_str()), (1, a.as_str()));
        assert_eq!(done[0].1.members.len(), 1);

        // A second member triggers a rebalance; the first must rejoin.
        let b = join_new(&mut c, 2, t0);
        assert!(joins(&mut c).is_empty());
        assert_eq!(c.heartbeat("g", 1, &a, None, t0), error::REBALANCE_IN_PROGRESS);
        assert!(matches!(c.join(args(&a), r(1), t0), Answer::Held));
        let done = joins(&mut c);
        assert_eq!(done.len(), 2);
        let leader = done.iter().find(|(_, j)| j.member_id == a).unwrap();
        let follower = done.iter().find(|(_, j)| j.member_id == b).unwrap();
        assert_eq!(leader.1.members.len(), 2, "the leader sees every member");
        assert!(follower.1.members.is_empty());
        assert_eq!(leader.1.generation_id, 2);

        // The follower's sync waits for the leader's assignments.
        assert!(matches!(c.sync(sargs("g", 2, &b, vec![]), r(2), t0), Answer::Held));
        let assignments = vec![(a.clone(), b"A".to_vec()), (b.clone(), b"B".to_vec())];
        assert!(matches!(c.sync(sargs("g", 2, &a, assignments), r(1), t0), Answer::Held));
        let syncs: Vec<_> = c
            .take_completions()
            .into_iter()
            .filter_map(|x| match x {
                Completion::Sync(r, s) => Some((r.conn, s.assignment)),
                _ => None,
            })
            .collect();
        assert_eq!(syncs.len(), 2);
        assert!(syncs.contains(&(2, b"B".to_vec())) && syncs.contains(&(1, b"A".to_vec())));
        assert_eq!(c.groups["g"].state, GroupState::Stable);
        assert_eq!(c.heartbeat("g", 2, &b, None, t0), error::NONE);
        assert_eq!(c.heartbeat("g", 1, &b, None, t0), error::ILLEGAL_GENERATION);

        // The follower leaves: the leader must rejoin, and completes alone.
        let (_, errs) = c.leave("g", &[(b.clone(), None)], t0);
        assert_eq!(errs, [error::NONE]);
        assert_eq!(c.heartbeat("g", 2, &a, None, t0), error::REBALANCE_IN_PROGRESS);
        assert!(matches!(c.join(args(&a), r(1), t0), Answer::Held));
        let done = joins(&mut c);
        assert_eq!((done.len(), done[0].1.generation_id), (1, 3));
    }

    #[test]
    fn silent_members_expire_and_missing_rejoins_are_dropped() {
        let mut c = Coordinator::new(CFG);
        let t0 = Instant::now();
        let a = join_new(&mut c, 1, t0);
        joins(&mut c);
        let b = join_new(&mut c, 2, t0);
        // `a` never rejoins: at the rebalance deadline the group goes on without it.
        c.tick(t0 + Duration::from_millis(999));
        assert!(joins(&mut c).is_empty());
        c.tick(t0 + Duration::from_millis(1001));
        let done = joins(&mut c);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].1.member_id, b);
        assert!(!c.groups["g"].members.contains_key(&a));
        // `b` then stops heartbeating and expires; the group empties.
        c.sync(sargs("g", 2, &b, vec![(b.clone(), vec![])]), r(2), t0);
        c.take_completions();
        c.tick(t0 + Duration::from_secs(3));
        assert_eq!(c.groups["g"].state, GroupState::Empty);
        assert!(c.groups["g"].members.is_empty());
    }

    #[test]
    fn bad_joins_are_refused() {
        let mut c = Coordinator::new(CFG);
        let now = Instant::now();
        let mut bad = args("");
        bad.session_timeout_ms = 1;
        assert!(
            matches!(c.join(bad, r(1), now), Answer::Now(j) if j.error_code == error::INVALID_SESSION_TIMEOUT)
        );
        let mut bad = args("");
        bad.group_id.clear();
        assert!(
            matches!(c.join(bad, r(1), now), Answer::Now(j) if j.error_code == error::INVALID_GROUP_ID)
        );
        assert!(
            matches!(c.join(args("nobody"), r(1), now), Answer::Now(j) if j.error_code == error::UNKNOWN_MEMBER_ID)
        );
        join_new(&mut c, 1, now);
        let mut other = args("");
        other.protocols = vec![("roundrobin".into(), vec![])];
        other.require_known_member_id = false;
        assert!(
            matches!(c.join(other, r(2), now), Answer::Now(j) if j.error_code == error::INCONSISTENT_GROUP_PROTOCOL)
        );
    }

    #[test]
    fn manual_commits_only_while_empty() {
        let mut c = Coordinator::new(CFG);
        let now = Instant::now();
        assert_eq!(c.check_commit("g", -1, "", None, now), error::NONE);
        let a = join_new(&mut c, 1, now);
        joins(&mut c);
        assert_eq!(c.check_commit("g", -1, "", None, now), error::UNKNOWN_MEMBER_ID);
        assert_eq!(c.check_commit("g", 1, &a, None, now), error::REBALANCE_IN_PROGRESS);
        c.sync(sargs("g", 1, &a, vec![]), r(1), now);
        assert_eq!(c.check_commit("g", 1, &a, None, now), error::NONE);
        assert_eq!(c.check_commit("g", 0, &a, None, now), error::ILLEGAL_GENERATION);
    }
}
