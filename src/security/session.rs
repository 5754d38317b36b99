//! What a connection has proved about itself: nothing yet, a SASL exchange under way, or an
//! authenticated principal (and until when, under `connections.max.reauth.ms`).

use std::time::Instant;

use super::scram::ScramServer;

pub enum Exchange {
    /// SASL listener, before a SaslHandshake.
    AwaitingHandshake,
    /// The handshake chose PLAIN: one token to come.
    Plain,
    Scram(Box<ScramServer>),
}

pub struct Session {
    /// Index of the listener in `Config::listeners`.
    pub listener: usize,
    /// A SASL listener's exchange in progress (also during re-authentication).
    pub exchange: Option<Exchange>,
    /// After a v0 SaslHandshake the tokens come as bare frames, not SaslAuthenticate requests.
    pub raw_tokens: bool,
    /// The authenticated user (`User:<name>`), `User:ANONYMOUS` on a PLAINTEXT listener.
    pub principal: Option<String>,
    /// When the session must have been re-authenticated (KIP-368).
    pub expires: Option<Instant>,
}

pub const ANONYMOUS: &str = "User:ANONYMOUS";

impl Session {
    pub fn new(listener: usize, sasl: bool) -> Session {
        Session {
            listener,
            exchange: sasl.then_some(Exchange::AwaitingHandshake),
            raw_tokens: false,
            principal: (!sasl).then(|| ANONYMOUS.to_string()),
            expires: None,
        }
    }

    pub fn authenticated(&self) -> bool {
        self.principal.is_some()
    }

    pub fn expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|e| now >= e)
    }
}
