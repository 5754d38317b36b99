//! Java `.properties` files as Kafka writes them: `key=value` lines, `#`/`!` comments.
//! Enough of the format for `server.properties` and `meta.properties` (no line continuations,
//! no escapes beyond what those files use).

use std::fmt::Write as _;

pub fn parse(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .filter_map(|l| {
            let at = l.find(['=', ':'])?;
            Some((l[..at].trim().to_string(), l[at + 1..].trim().to_string()))
        })
        .collect()
}

pub fn get<'a>(props: &'a [(String, String)], key: &str) -> Option<&'a str> {
    props.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

pub fn render(pairs: &[(&str, String)]) -> String {
    let mut s = String::from("#\n#Written by minikafka\n");
    for (k, v) in pairs {
        let _ = writeln!(s, "{k}={v}");
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_kafka_style_files() {
        let p = super::parse("# c\n\nnode.id=1\n  log.dirs = /tmp/x \nbad line\nk:v\n");
        assert_eq!(super::get(&p, "node.id"), Some("1"));
        assert_eq!(super::get(&p, "log.dirs"), Some("/tmp/x"));
        assert_eq!(super::get(&p, "k"), Some("v"));
        assert_eq!(p.len(), 3);
    }
}
