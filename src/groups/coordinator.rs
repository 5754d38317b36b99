//! The coordinator itself: every group by id, the transitions of their state machines, and
//! the answers held for members waiting on the rest of their group.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::*;
use crate::protocol::error;

pub struct Coordinator {
    config: GroupConfig,
    pub consumer_config: consumer::ConsumerConfig,
    pub groups: BTreeMap<String, Group>,
    /// The metadata log's last offset as the broker last saw it: the version of the regex
    /// resolutions of consumer groups.
    pub metadata_offset: i64,
    completions: Vec<Completion>,
    next_member: u64,
    /// The nearest timer, once computed; `None` after any change that may move it. The loop
    /// asks every turn, so it must not walk every group and member each time.
    next_timer: Option<Option<Instant>>,
}

impl Coordinator {
    pub fn new(config: GroupConfig) -> Self {
        Coordinator {
            config,
            consumer_config: consumer::ConsumerConfig::default(),
            groups: BTreeMap::new(),
            metadata_offset: 0,
            completions: Vec::new(),
            next_member: 0,
            next_timer: None,
        }
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
        self.next_timer = None;
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
        if let Some(c) = &group.consumer {
            // Kafka converts an empty consumer group to a classic one; it does not mix
            // classic members into a consumer group's rebalances here.
            if !c.members.is_empty() {
                return Answer::Now(JoinResult::error(
                    error::INCONSISTENT_GROUP_PROTOCOL,
                    &a.member_id,
                ));
            }
            group.consumer = None;
        }
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
                log::info!("group {:?}: static member {old:?} replaced by {id:?}", a.group_id);
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
        // Its own timeout, not the session's (JoinGroup v0 has none: the codec uses the session).
        member.rebalance_timeout = Duration::from_millis(a.rebalance_timeout_ms.max(0) as u64);
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
        log::debug!("group {group_id:?}: preparing rebalance (generation {})", group.generation_id);
    }

    /// Completes the join phase when every member has rejoined, or at the deadline without
    /// the ones that did not.
    fn try_complete_join(&mut self, group_id: &str, now: Instant) {
        let Some(group) = self.groups.get_mut(group_id) else { return };
        if group.state != GroupState::PreparingRebalance {
            return;
        }
        let all_joined = group.members.values().all(|m| m.awaiting_join.is_some());
        if group.join_not_before.is_some_and(|t| now >= t) {
            // Past: forget it, or the loop would keep waking for it.
            group.join_not_before = None;
        }
        let delayed = group.join_not_before.is_some();
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
            log::info!("group {group_id:?}: member {id:?} removed: it did not rejoin in time");
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
            "group {group_id:?}: generation {} with {} members, leader {:?}",
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
        self.next_timer = None;
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
        self.next_timer = None;
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
        self.next_timer = None;
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
                log::info!("group {group_id:?}: member {id:?} left");
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

    /// Expires sessions and completes rebalances whose time is up. Returns the consumer
    /// groups that lost members, each as it was before, for their records to be written.
    pub fn tick(&mut self, now: Instant) -> Vec<consumer::ConsumerGroup> {
        self.next_timer = None;
        let mut changed = Vec::new();
        let ids: Vec<String> = self.groups.keys().cloned().collect();
        for id in ids {
            let group = self.groups.get_mut(&id).expect("listed");
            if let Some(c) = &mut group.consumer {
                if c.next_deadline().is_some_and(|d| d <= now) {
                    let before = c.clone();
                    // The target is recomputed at the next heartbeat of a remaining member
                    // (Kafka has no timer for it either).
                    if !c.expire(now).is_empty() {
                        changed.push(before);
                    }
                }
                continue;
            }
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
                log::info!("group {id:?}: member {m:?} expired after its session timeout");
                group.members.remove(m);
                group.order.retain(|o| o != m);
            }
            if !expired.is_empty() {
                self.membership_changed(&id, now);
            }
            self.try_complete_join(&id, now);
        }
        changed
    }

    pub fn next_deadline(&mut self) -> Option<Instant> {
        if let Some(cached) = self.next_timer {
            return cached;
        }
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        for g in self.groups.values() {
            if let Some(c) = &g.consumer {
                c.next_deadline().into_iter().for_each(&mut consider);
                continue;
            }
            if g.state == GroupState::PreparingRebalance {
                g.rebalance_deadline.into_iter().for_each(&mut consider);
                g.join_not_before.into_iter().for_each(&mut consider);
            }
            // Members waiting on a held answer are not timing out (see `tick`).
            for m in g
                .members
                .values()
                .filter(|m| m.awaiting_join.is_none() && m.awaiting_sync.is_none())
            {
                consider(m.session_deadline);
            }
            g.pending.values().copied().for_each(&mut consider);
        }
        self.next_timer = Some(next);
        next
    }

    /// A closed connection gets no held answers; its members stay until their sessions end.
    pub fn connection_closed(&mut self, conn: usize) {
        self.next_timer = None;
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
        self.next_timer = None;
        if group_id.is_empty() {
            return error::INVALID_GROUP_ID;
        }
        let group = self.groups.entry(group_id.to_string()).or_insert_with(|| Group::new(group_id));
        if let Some(c) = &group.consumer {
            // The member epoch takes the generation's place.
            return c.check_member_epoch(member_id, generation_id);
        }
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

    /// Whether `group_id` may be deleted (DeleteGroups), as Kafka's
    /// `ClassicGroup.validateDeleteGroup` decides: only a known group without members. An
    /// empty id is just an unknown group here (Kafka 4.4 answers it GROUP_ID_NOT_FOUND, unlike
    /// OffsetDelete's INVALID_GROUP_ID).
    pub fn check_delete(&self, group_id: &str) -> i16 {
        match self.groups.get(group_id) {
            None => error::GROUP_ID_NOT_FOUND,
            Some(g) if g.consumer.as_ref().is_some_and(|c| !c.members.is_empty()) => {
                error::NON_EMPTY_GROUP
            }
            Some(g) if g.state != GroupState::Empty || !g.members.is_empty() => {
                error::NON_EMPTY_GROUP
            }
            Some(_) => error::NONE,
        }
    }

    /// Whether offsets of `group_id` may be deleted (OffsetDelete), as Kafka's
    /// `ClassicGroup.validateOffsetDelete` decides: an active group only if it runs the
    /// consumer protocol (whose subscriptions are then checked topic by topic).
    pub fn check_offset_delete(&self, group_id: &str) -> i16 {
        if group_id.is_empty() {
            return error::INVALID_GROUP_ID;
        }
        match self.groups.get(group_id) {
            None => error::GROUP_ID_NOT_FOUND,
            Some(g) if g.consumer.is_some() => error::NONE,
            Some(g)
                if g.state != GroupState::Empty
                    && g.protocol_type.as_deref() != Some("consumer") =>
            {
                error::NON_EMPTY_GROUP
            }
            Some(_) => error::NONE,
        }
    }

    /// One ConsumerGroupHeartbeat (KIP-848) against `topics`, the metadata as it is now.
    pub fn consumer_heartbeat(
        &mut self,
        a: &consumer::HeartbeatArgs,
        topics: &consumer::TopicsMeta,
        now: Instant,
    ) -> consumer::HeartbeatResult {
        use consumer::{ConsumerGroup, HeartbeatResult};
        self.next_timer = None;
        if let Err(e) = consumer::validate(a, &self.consumer_config) {
            return e;
        }
        let joining = a.member_epoch == 0;
        match self.groups.get_mut(&a.group_id) {
            None if !joining => {
                // Kafka answers GROUP_ID_NOT_FOUND ("Consumer group .. not found."), which
                // clients take as fatal; a member of a group whose records are gone (a new
                // log directory) is told to rejoin instead.
                return HeartbeatResult::error(
                    error::UNKNOWN_MEMBER_ID,
                    format!("Consumer group {} not found.", a.group_id),
                );
            }
            None => {
                let mut g = Group::new(&a.group_id);
                g.consumer = Some(ConsumerGroup::created(&a.group_id));
                self.groups.insert(a.group_id.clone(), g);
            }
            Some(g) if g.consumer.is_none() => {
                // Kafka takes over an empty classic group (its offsets stay) but not one
                // with members.
                if !g.members.is_empty() || g.state != GroupState::Empty || !joining {
                    return HeartbeatResult::error(
                        error::GROUP_ID_NOT_FOUND,
                        format!("Group {} is not a consumer group.", a.group_id),
                    );
                }
                g.consumer = Some(ConsumerGroup::created(&a.group_id));
            }
            Some(_) => {}
        }
        let config = self.consumer_config.clone();
        let c = self.groups.get_mut(&a.group_id).and_then(|g| g.consumer.as_mut());
        let c = c.expect("a consumer group from here on");
        c.metadata_offset = self.metadata_offset;
        let new_id = || crate::uuid::to_base64(&crate::uuid::random());
        c.heartbeat(a, topics, &config, new_id, now)
    }

    /// Forgets a group: its members (it has none when this is called), pending joins and
    /// offsets.
    pub fn remove_group(&mut self, group_id: &str) -> Option<Group> {
        self.next_timer = None;
        self.groups.remove(group_id)
    }

    pub fn group_mut(&mut self, group_id: &str) -> &mut Group {
        self.next_timer = None;
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
