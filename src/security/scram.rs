//! The server's side of SCRAM (RFC 5802) for Kafka's SCRAM-SHA-256 and SCRAM-SHA-512
//! (RFC 7677): two client messages, two answers. Credentials are kept as Kafka's controller
//! keeps them (salt, iterations, StoredKey, ServerKey), never the password.

use super::base64;
use super::hmac::{hi, hmac};
use super::sha2::{Hash, Sha256, Sha512};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    ScramSha256,
    ScramSha512,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "SCRAM-SHA-256" => Some(Mechanism::ScramSha256),
            "SCRAM-SHA-512" => Some(Mechanism::ScramSha512),
            _ => None,
        }
    }

    /// Kafka's `ScramMechanism` type byte in `UserScramCredentialRecord` and the admin APIs.
    pub fn kafka_type(self) -> i8 {
        match self {
            Mechanism::ScramSha256 => 1,
            Mechanism::ScramSha512 => 2,
        }
    }

    pub fn from_kafka_type(t: i8) -> Option<Self> {
        match t {
            1 => Some(Mechanism::ScramSha256),
            2 => Some(Mechanism::ScramSha512),
            _ => None,
        }
    }

    /// The fewest iterations Kafka accepts for a credential.
    pub const MIN_ITERATIONS: i32 = 4096;
    /// The most (Kafka's `ScramMechanism.maxIterations`).
    pub const MAX_ITERATIONS: i32 = 16384;

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Mechanism::ScramSha256 => Sha256::digest(data),
            Mechanism::ScramSha512 => Sha512::digest(data),
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            Mechanism::ScramSha256 => hmac::<Sha256>(key, data),
            Mechanism::ScramSha512 => hmac::<Sha512>(key, data),
        }
    }

    /// SaltedPassword: `Hi(Normalize(password), salt, i)`. Passwords are taken as their UTF-8
    /// bytes, as Kafka's `ScramFormatter` does (no SASLprep).
    pub fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            Mechanism::ScramSha256 => hi::<Sha256>(password, salt, iterations),
            Mechanism::ScramSha512 => hi::<Sha512>(password, salt, iterations),
        }
    }

    /// What the broker stores for a user from a salted password (AlterUserScramCredentials
    /// sends this, never the password itself).
    pub fn credential(self, salted_password: &[u8], salt: &[u8], iterations: i32) -> Credential {
        let client_key = self.hmac(salted_password, b"Client Key");
        Credential {
            salt: salt.to_vec(),
            iterations,
            stored_key: self.hash(&client_key),
            server_key: self.hmac(salted_password, b"Server Key"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub salt: Vec<u8>,
    pub iterations: i32,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

/// Why an exchange failed. The text goes to the client in SaslAuthenticate's error message,
/// so it never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramError(pub String);

fn fail<T>(why: &str) -> Result<T, ScramError> {
    Err(ScramError(why.to_string()))
}

enum State {
    AwaitingClientFirst,
    AwaitingClientFinal {
        username: String,
        credential: Credential,
        nonce: String,
        gs2_header: String,
        client_first_bare: String,
        server_first: String,
    },
    Done,
}

/// One client's exchange.
pub struct ScramServer {
    mechanism: Mechanism,
    state: State,
}

impl ScramServer {
    pub fn new(mechanism: Mechanism) -> Self {
        ScramServer { mechanism, state: State::AwaitingClientFirst }
    }

    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// Whether the client-first-message has been seen.
    pub fn started(&self) -> bool {
        !matches!(self.state, State::AwaitingClientFirst)
    }

    /// The user of the exchange, once named.
    pub fn user(&self) -> Option<&str> {
        match &self.state {
            State::AwaitingClientFinal { username, .. } => Some(username),
            _ => None,
        }
    }

    /// The answer to `client-first-message`. `lookup` finds the user's credential;
    /// `server_nonce` is fresh randomness of the caller's (printable, no comma).
    pub fn client_first(
        &mut self,
        message: &[u8],
        lookup: impl FnOnce(&str) -> Option<Credential>,
        server_nonce: &str,
    ) -> Result<Vec<u8>, ScramError> {
        if !matches!(self.state, State::AwaitingClientFirst) {
            return fail("unexpected client-first-message");
        }
        self.state = State::Done;
        if server_nonce.is_empty() {
            return fail("no server nonce");
        }
        let Ok(text) = std::str::from_utf8(message) else {
            return fail("client-first-message is not UTF-8");
        };
        // gs2-header: "n," (no channel binding; "y," when the client could but thinks the
        // server cannot) then an optional authzid, then ",".
        let (cbind, rest) = text.split_once(',').unwrap_or(("", ""));
        if cbind != "n" && cbind != "y" {
            return fail("channel binding is not supported");
        }
        let Some((authzid, bare)) = rest.split_once(',') else {
            return fail("invalid client-first-message");
        };
        let mut fields = bare.split(',');
        let username = match fields.next().and_then(|f| f.strip_prefix("n=")) {
            Some(name) => decode_saslname(name)?,
            None => return fail("invalid client-first-message: no username"),
        };
        let client_nonce = match fields.next().and_then(|f| f.strip_prefix("r=")) {
            Some(n) if !n.is_empty() && n.bytes().all(|b| (0x21..=0x7e).contains(&b)) => n,
            _ => return fail("invalid client-first-message: bad nonce"),
        };
        // Extensions (Kafka's `tokenauth=true` for delegation tokens) are not served.
        if fields.any(|f| f.starts_with("tokenauth=")) {
            return fail("delegation tokens are not supported");
        }
        if !authzid.is_empty() {
            match authzid.strip_prefix("a=").map(decode_saslname) {
                Some(Ok(a)) if a == username => {}
                _ => return fail("authorization id does not match the user name"),
            }
        }
        let Some(credential) = lookup(&username) else {
            return fail("invalid credentials");
        };
        let nonce = format!("{client_nonce}{server_nonce}");
        let server_first =
            format!("r={nonce},s={},i={}", base64::encode(&credential.salt), credential.iterations);
        self.state = State::AwaitingClientFinal {
            username,
            credential,
            nonce,
            gs2_header: format!("{cbind},{authzid},"),
            client_first_bare: bare.to_string(),
            server_first: server_first.clone(),
        };
        Ok(server_first.into_bytes())
    }

    /// The answer to `client-final-message` and the authenticated user, once its proof holds.
    pub fn client_final(&mut self, message: &[u8]) -> Result<(Vec<u8>, String), ScramError> {
        let State::AwaitingClientFinal {
            username,
            credential,
            nonce,
            gs2_header,
            client_first_bare,
            server_first,
        } = std::mem::replace(&mut self.state, State::Done)
        else {
            return fail("unexpected client-final-message");
        };
        let Ok(text) = std::str::from_utf8(message) else {
            return fail("client-final-message is not UTF-8");
        };
        let Some((without_proof, proof)) = text.rsplit_once(",p=") else {
            return fail("invalid client-final-message: no proof");
        };
        let mut fields = without_proof.split(',');
        let binding = fields.next().and_then(|f| f.strip_prefix("c="));
        if binding.and_then(base64::decode) != Some(gs2_header.into_bytes()) {
            return fail("invalid channel binding");
        }
        if fields.next().and_then(|f| f.strip_prefix("r=")) != Some(nonce.as_str()) {
            return fail("nonce does not match");
        }
        let Some(proof) = base64::decode(proof) else {
            return fail("invalid client proof");
        };
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let m = self.mechanism;
        let client_signature = m.hmac(&credential.stored_key, auth_message.as_bytes());
        if proof.len() != client_signature.len() {
            return fail("invalid credentials");
        }
        let client_key: Vec<u8> = proof.iter().zip(&client_signature).map(|(p, s)| p ^ s).collect();
        if !super::constant_time_eq(&m.hash(&client_key), &credential.stored_key) {
            return fail("invalid credentials");
        }
        let server_signature = m.hmac(&credential.server_key, auth_message.as_bytes());
        Ok((format!("v={}", base64::encode(&server_signature)).into_bytes(), username))
    }
}

/// RFC 5802's `saslname`: "," and "=" travel as "=2C" and "=3D"; any other "=" is an error.
fn decode_saslname(s: &str) -> Result<String, ScramError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        match rest.get(i..i + 3) {
            Some("=2C") => out.push(','),
            Some("=3D") => out.push('='),
            _ => return fail("invalid user name encoding"),
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    if out.is_empty() {
        return fail("empty user name");
    }
    Ok(out)
}

/// A user to add at start-up: `--add-scram` takes what `kafka-storage.sh format --add-scram`
/// takes, e.g. `SCRAM-SHA-256=[name=alice,password=alice-secret]` (`iterations=N` optional,
/// default 4096; values may be double-quoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddScram {
    pub mechanism: Mechanism,
    pub name: String,
    pub password: String,
    pub iterations: i32,
}

impl AddScram {
    pub fn parse(spec: &str) -> Result<AddScram, String> {
        // Errors name the mechanism part only: the rest may hold the password.
        let mech_part = spec.split('=').next().unwrap_or("");
        let bad = |why: &str| format!("--add-scram {mech_part:?}: {why}");
        let (mech, rest) = spec.split_once('=').ok_or_else(|| bad("expected MECHANISM=[...]"))?;
        let mechanism = Mechanism::from_name(mech.trim())
            .ok_or_else(|| bad("the mechanism is SCRAM-SHA-256 or SCRAM-SHA-512"))?;
        let body = rest
            .trim()
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .ok_or_else(|| bad("expected [key=value,...]"))?;
        let (mut name, mut password, mut iterations) = (None, None, 4096);
        for kv in body.split(',') {
            let (k, v) = kv.split_once('=').ok_or_else(|| bad("expected key=value"))?;
            let v = v.trim();
            let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
            match k.trim() {
                "name" => name = Some(v.to_string()),
                "password" => password = Some(v.to_string()),
                "iterations" => {
                    iterations = v.parse().map_err(|_| bad("iterations is not a number"))?
                }
                other => return Err(bad(&format!("unknown key {other}"))),
            }
        }
        if !(Mechanism::MIN_ITERATIONS..=Mechanism::MAX_ITERATIONS).contains(&iterations) {
            return Err(bad("iterations must be within 4096..=16384"));
        }
        match (name, password) {
            (Some(name), Some(password)) if !name.is_empty() => {
                Ok(AddScram { mechanism, name, password, iterations })
            }
            _ => Err(bad("name and password are required")),
        }
    }
}

#[cfg(test)]
mod add_scram_tests {
    use super::*;

    #[test]
    fn specs_as_kafka_storage_takes_them() {
        assert_eq!(
            AddScram::parse("SCRAM-SHA-512=[name=alice,password=\"a=b\",iterations=8192]"),
            Ok(AddScram {
                mechanism: Mechanism::ScramSha512,
                name: "alice".into(),
                password: "a=b".into(),
                iterations: 8192
            })
        );
        for bad in [
            "SCRAM-SHA-1=[name=a,password=b]",
            "SCRAM-SHA-256=name=a,password=b",
            "SCRAM-SHA-256=[name=a]",
            "SCRAM-SHA-256=[name=a,password=b,iterations=10]",
            "SCRAM-SHA-256=[name=a,password=b,colour=red]",
        ] {
            let e = AddScram::parse(bad).unwrap_err();
            // The password never reaches an error message.
            assert!(!e.contains("password=b"), "{e}");
        }
    }
}
