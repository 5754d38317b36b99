//! SaslHandshake (17), SaslAuthenticate (36) and the gate in front of every other request on
//! a SASL listener, after Kafka's `SaslServerAuthenticator`:
//!
//! - before authentication only ApiVersions and the SASL requests are answered; anything else
//!   closes the connection, as Kafka does;
//! - an unknown mechanism gets UNSUPPORTED_SASL_MECHANISM, a failed exchange
//!   SASL_AUTHENTICATION_FAILED, and the connection is closed once that answer is sent;
//! - a v0 handshake is followed by bare SASL tokens (clients before Kafka 1.0), v1 by
//!   SaslAuthenticate requests;
//! - with `connections.max.reauth.ms`, SaslAuthenticate v1+ tells the client its session
//!   lifetime, and a request after it ends without a re-authentication closes the connection
//!   (KIP-368). A re-authentication may not change the principal.
//!
//! On a PLAINTEXT listener both SASL requests are answered ILLEGAL_SASL_STATE, as Kafka's
//! request handler answers them there.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{begin_response, finish_response, Broker, Close, Handled};
use crate::listeners::SecurityProtocol;
use crate::protocol::apis;
use crate::protocol::codec::{Put, Reader};
use crate::protocol::error;
use crate::protocol::header::{self, RequestHeader};
use crate::protocol::output::Output;
use crate::protocol::sasl_authenticate::*;
use crate::protocol::sasl_handshake::*;
use crate::security::scram::{Mechanism, ScramServer};
use crate::security::session::{Exchange, Session};
use crate::security::{base64, constant_time_eq};

/// The result of one SASL token.
enum Step {
    /// More tokens to come; this is the challenge.
    Continue(Vec<u8>),
    /// Authenticated as this user; the last server token.
    Done(String, Vec<u8>),
    /// Failed: the message for the client, and the user tried (for the log).
    Failed(String, Option<String>),
}

impl Broker {
    /// Handles a frame of a connection whose listener and authentication `session` tracks:
    /// SASL tokens and requests here, everything else through [`Broker::handle`] once the
    /// session may make it.
    pub fn handle_session(
        &mut self,
        conn: usize,
        peer: SocketAddr,
        session: &mut Session,
        frame: &[u8],
        out: &mut Output,
    ) -> Result<Handled, Close> {
        if session.raw_tokens {
            return self.raw_token(peer, session, frame, out);
        }
        let (api_key, api_version, correlation_id) =
            RequestHeader::decode_prefix(&mut Reader::new(frame))
                .map_err(|e| Close(format!("unreadable request header: {e}")))?;
        if api_key == apis::SASL_HANDSHAKE || api_key == apis::SASL_AUTHENTICATE {
            return self.sasl_request(
                peer,
                session,
                frame,
                api_key,
                api_version,
                correlation_id,
                out,
            );
        }
        if api_key != apis::API_VERSIONS {
            let name = apis::spec(api_key).map_or("an unknown request", |s| s.name);
            if !session.authenticated() {
                return Err(Close(format!("{name} before SASL authentication")));
            }
            if session.expired(Instant::now()) {
                return Err(Close(format!(
                    "{name} after the session's lifetime (connections.max.reauth.ms) ended \
                     without re-authentication"
                )));
            }
        }
        self.listener = session.listener;
        if let Some(p) = &session.principal {
            if *p != self.principal {
                self.principal.clone_from(p);
            }
        }
        self.handle(conn, peer, frame, out)
    }

    #[allow(clippy::too_many_arguments)]
    fn sasl_request(
        &mut self,
        peer: SocketAddr,
        session: &mut Session,
        frame: &[u8],
        api_key: i16,
        version: i16,
        correlation_id: i32,
        out: &mut Output,
    ) -> Result<Handled, Close> {
        let spec = apis::spec(api_key).expect("SASL apis are listed");
        if !spec.supports(version) {
            return Err(Close(format!("{} v{version} is not supported", spec.name)));
        }
        let mut r = Reader::new(frame);
        RequestHeader::decode(&mut r, spec.is_flexible(version))
            .map_err(|e| Close(format!("{} v{version}: bad request header: {e}", spec.name)))?;
        let at =
            begin_response(out, correlation_id, header::response_header_flexible(api_key, version));
        let sasl_listener =
            self.config.listeners[session.listener].protocol == SecurityProtocol::SaslPlaintext;
        let mut close_after = None;
        if api_key == apis::SASL_HANDSHAKE {
            let req = SaslHandshakeRequest::decode(&mut r, version)
                .map_err(|e| Close(format!("SaslHandshake v{version}: {e}")))?;
            let mechanisms = &self.config.listeners[session.listener].mechanisms;
            let reauth = session.authenticated() && session.exchange.is_none() && version >= 1;
            let error_code = if !sasl_listener {
                error::ILLEGAL_SASL_STATE
            } else if !matches!(session.exchange, Some(Exchange::AwaitingHandshake)) && !reauth {
                close_after = Some("SaslHandshake out of turn".to_string());
                error::ILLEGAL_SASL_STATE
            } else if !mechanisms.iter().any(|m| m == req.mechanism) {
                close_after = Some(format!("SASL mechanism {:?} is not enabled", req.mechanism));
                error::UNSUPPORTED_SASL_MECHANISM
            } else {
                session.exchange = Some(match Mechanism::from_name(req.mechanism) {
                    Some(m) => Exchange::Scram(Box::new(ScramServer::new(m))),
                    None => Exchange::Plain,
                });
                session.raw_tokens = version == 0;
                error::NONE
            };
            let none: [String; 0] = [];
            SaslHandshakeResponse {
                error_code,
                mechanisms: if sasl_listener { mechanisms } else { &none },
            }
            .encode(version, out);
        } else {
            let req = SaslAuthenticateRequest::decode(&mut r, version)
                .map_err(|e| Close(format!("SaslAuthenticate v{version}: {e}")))?;
            let mid_exchange =
                matches!(session.exchange, Some(Exchange::Plain | Exchange::Scram(_)));
            if sasl_listener && !mid_exchange && !session.authenticated() {
                return Err(Close("SaslAuthenticate before SaslHandshake".into()));
            }
            let (error_code, message, bytes, lifetime) = if !mid_exchange {
                let msg = "SaslAuthenticate request received after successful authentication";
                (error::ILLEGAL_SASL_STATE, Some(msg.to_string()), Vec::new(), 0)
            } else {
                match self.sasl_step(peer, session, req.auth_bytes) {
                    Ok((bytes, lifetime)) => (error::NONE, None, bytes, lifetime),
                    Err(message) => {
                        close_after = Some("SASL authentication failed".to_string());
                        (error::SASL_AUTHENTICATION_FAILED, Some(message), Vec::new(), 0)
                    }
                }
            };
            SaslAuthenticateResponse {
                error_code,
                error_message: message.as_deref(),
                auth_bytes: &bytes,
                session_lifetime_ms: lifetime,
            }
            .encode(version, out);
        }
        finish_response(out, at);
        Ok(match close_after {
            Some(reason) => Handled::CloseAfterResponse(reason),
            None => Handled::Done,
        })
    }

    /// A bare SASL token after a v0 handshake; the answer is a bare frame too, and a failure
    /// closes the connection without one.
    fn raw_token(
        &mut self,
        peer: SocketAddr,
        session: &mut Session,
        frame: &[u8],
        out: &mut Output,
    ) -> Result<Handled, Close> {
        let (bytes, _) = self.sasl_step(peer, session, frame).map_err(Close)?;
        out.put_i32(bytes.len() as i32);
        out.extend_from_slice(&bytes);
        Ok(Handled::Done)
    }

    /// Feeds one client token to the session's exchange. Returns the server's token and, once
    /// authenticated, the session lifetime to announce (0: none); or the failure's message.
    fn sasl_step(
        &mut self,
        peer: SocketAddr,
        session: &mut Session,
        token: &[u8],
    ) -> Result<(Vec<u8>, i64), String> {
        let listener = &self.config.listeners[session.listener];
        let exchange = session.exchange.take();
        let (mechanism, step) = match exchange {
            Some(Exchange::Plain) => ("PLAIN", plain(&listener.plain_users, token)),
            Some(Exchange::Scram(mut server)) => {
                let m = server.mechanism();
                let step = scram_step(&mut server, token, |user| {
                    self.meta.scram_credential(user, m).cloned()
                });
                if matches!(step, Step::Continue(_)) {
                    session.exchange = Some(Exchange::Scram(server));
                }
                (m.name(), step)
            }
            _ => return Err("no SASL exchange in progress".into()),
        };
        match step {
            Step::Continue(challenge) => Ok((challenge, 0)),
            Step::Done(user, last) => {
                let principal = format!("User:{user}");
                if session.principal.as_ref().is_some_and(|p| *p != principal) {
                    log::info!(
                        "re-authentication from {peer} as {principal:?} refused: the connection \
                         is {:?}",
                        session.principal.as_deref().unwrap_or_default()
                    );
                    return Err("Cannot change principals during re-authentication".into());
                }
                log::debug!("{peer} authenticated as {principal:?} with {mechanism}");
                session.principal = Some(principal);
                session.raw_tokens = false;
                let reauth_ms = self
                    .config
                    .value("connections.max.reauth.ms")
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(0);
                session.expires = (reauth_ms > 0)
                    .then(|| Instant::now() + Duration::from_millis(reauth_ms as u64));
                Ok((last, reauth_ms.max(0)))
            }
            Step::Failed(message, user) => {
                // The user name is the client's text: {:?} keeps it on one line.
                log::info!(
                    "failed authentication with {mechanism} from {peer} (user {:?}): {message}",
                    user.as_deref().unwrap_or("?")
                );
                Err(message)
            }
        }
    }
}

/// PLAIN (RFC 4616): `authzid NUL authcid NUL passwd`, checked against the JAAS users.
fn plain(users: &std::collections::BTreeMap<String, String>, token: &[u8]) -> Step {
    const FAILED: &str = "Authentication failed: Invalid username or password";
    let parts: Vec<&[u8]> = token.split(|&b| b == 0).collect();
    let [authzid, user, password] = parts[..] else {
        return Step::Failed("Invalid SASL/PLAIN response: expected 3 tokens".into(), None);
    };
    let Ok(user) = std::str::from_utf8(user) else {
        return Step::Failed(FAILED.into(), None);
    };
    if user.is_empty() || password.is_empty() {
        return Step::Failed(FAILED.into(), Some(user.to_string()));
    }
    if !authzid.is_empty() && authzid != user.as_bytes() {
        let msg = "Authentication failed: Client requested an authorization id that is \
                   different from username";
        return Step::Failed(msg.into(), Some(user.to_string()));
    }
    match users.get(user) {
        Some(expected) if constant_time_eq(expected.as_bytes(), password) => {
            Step::Done(user.to_string(), Vec::new())
        }
        _ => Step::Failed(FAILED.into(), Some(user.to_string())),
    }
}

fn scram_step(
    server: &mut ScramServer,
    token: &[u8],
    lookup: impl FnOnce(&str) -> Option<crate::security::scram::Credential>,
) -> Step {
    let name = server.mechanism().name();
    let failed = |user: Option<String>| {
        Step::Failed(
            format!(
                "Authentication failed during authentication due to invalid credentials with \
                 SASL mechanism {name}"
            ),
            user,
        )
    };
    if !server.started() {
        let user = scram_user(token);
        match server.client_first(token, lookup, &server_nonce()) {
            Ok(challenge) => Step::Continue(challenge),
            Err(e) => {
                log::debug!("SCRAM client-first refused: {}", e.0);
                failed(user)
            }
        }
    } else {
        let user = server.user().map(str::to_string);
        match server.client_final(token) {
            Ok((last, user)) => Step::Done(user, last),
            Err(e) => {
                log::debug!("SCRAM client-final refused: {}", e.0);
                failed(user)
            }
        }
    }
}

/// The user a client-first-message names, for the log line of a failure.
fn scram_user(token: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(token).ok()?;
    text.split(',').find_map(|f| f.strip_prefix("n=")).map(str::to_string)
}

/// 18 bytes from the kernel's CSPRNG, in base64: the server's half of the SCRAM nonce.
fn server_nonce() -> String {
    use std::io::Read;
    let mut b = [0u8; 18];
    if let Err(e) = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)) {
        // No randomness: refuse rather than offer a guessable nonce.
        log::error!("cannot read /dev/urandom for a SCRAM nonce: {e}");
        return String::new();
    }
    base64::encode(&b)
}
