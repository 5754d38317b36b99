//! The one part of a JAAS configuration a broker's PLAIN mechanism reads: the options of
//! `listener.name.<listener>.plain.sasl.jaas.config`, e.g.
//! `org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="secret";`
//! where every `user_<name>` option is a user and its password.

use std::collections::BTreeMap;

/// The options of one login module entry: `Class flag key=value ... ;`.
pub fn options(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut words = Words { rest: text.trim() };
    let class = words.word().ok_or("JAAS config has no login module")?;
    let flag = words.word().ok_or("JAAS config has no control flag")?;
    if !["required", "requisite", "sufficient", "optional"].contains(&flag.as_str()) {
        return Err(format!("JAAS config of {class}: '{flag}' is not a control flag"));
    }
    let mut out = BTreeMap::new();
    loop {
        words.skip_space();
        if words.rest.is_empty() || words.rest.starts_with(';') {
            break;
        }
        let key = words.until_eq().ok_or("JAAS option without '='")?;
        let value = words.value().ok_or(format!("JAAS option {key} has no value"))?;
        out.insert(key, value);
    }
    Ok(out)
}

struct Words<'a> {
    rest: &'a str,
}

impl Words<'_> {
    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn word(&mut self) -> Option<String> {
        self.skip_space();
        let end =
            self.rest.find(|c: char| c.is_whitespace() || c == ';').unwrap_or(self.rest.len());
        let (w, rest) = self.rest.split_at(end);
        self.rest = rest;
        (!w.is_empty()).then(|| w.to_string())
    }

    fn until_eq(&mut self) -> Option<String> {
        let i = self.rest.find('=')?;
        let key = self.rest[..i].trim();
        self.rest = &self.rest[i + 1..];
        (!key.is_empty() && !key.contains(char::is_whitespace)).then(|| key.to_string())
    }

    /// A quoted value (with `\"` and `\\` escapes) or a bare word.
    fn value(&mut self) -> Option<String> {
        self.skip_space();
        let Some(quoted) = self.rest.strip_prefix('"') else { return self.word() };
        let mut out = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &quoted[i + 1..];
                    return Some(out);
                }
                '\\' => out.push(chars.next()?.1),
                c => out.push(c),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_login_module_users() {
        let o = options(
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required
               username="admin" password="admin-secret"
               user_admin="admin-secret" user_alice="a \"quoted\" pw" user_bob=bare;"#,
        )
        .unwrap();
        assert_eq!(o["user_admin"], "admin-secret");
        assert_eq!(o["user_alice"], r#"a "quoted" pw"#);
        assert_eq!(o["user_bob"], "bare");
        assert_eq!(o.len(), 5);
    }

    #[test]
    fn malformed_configs_are_refused() {
        for bad in [
            "",
            "Module",
            "Module sometimes;",
            r#"Module required user_a="open;"#,
            "Module required =x;",
        ] {
            assert!(options(bad).is_err(), "{bad}");
        }
    }
}
