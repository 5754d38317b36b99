//! The regular expressions of ListTransactions v2's `transactional_id_pattern` (KIP-1152):
//! Kafka compiles them with RE2/J and keeps an id when the whole id matches. This is the
//! part of RE2's syntax a pattern over ids needs: literals and escapes, `.`, classes
//! (`[a-z]`, `[^...]`, `\d \w \s` and their negations), groups `( )` and `(?: )`,
//! alternation `|`, `* + ?`, `{n}`, `{n,}`, `{n,m}` and the anchors `^ $`. Anything else is
//! refused as invalid rather than matched differently.

/// One parsed piece of a pattern.
#[derive(Debug, Clone)]
enum Node {
    /// A character class: ranges, negated or not (a literal is a one-char class).
    Class(Vec<(char, char)>, bool),
    /// `.`: any character but a newline, as RE2 without the `s` flag.
    Any,
    Start,
    End,
    /// Alternatives, each a sequence.
    Alt(Vec<Vec<Node>>),
    Repeat(Box<Node>, u32, Option<u32>),
}

#[derive(Debug, Clone)]
pub struct Pattern {
    alts: Vec<Vec<Node>>,
}

/// Repetition counts above this are refused (RE2's limit is 1000).
const MAX_REPEAT: u32 = 1000;

impl Pattern {
    pub fn compile(p: &str) -> Result<Pattern, String> {
        let chars: Vec<char> = p.chars().collect();
        let mut at = 0;
        let alts = parse_alt(&chars, &mut at, 0)?;
        if at != chars.len() {
            return Err(format!("unexpected ) at {at}"));
        }
        Ok(Pattern { alts })
    }

    /// Whether the whole of `s` matches (Java's `Matcher.matches`).
    pub fn matches(&self, s: &str) -> bool {
        let chars: Vec<char> = s.chars().collect();
        let node = Node::Alt(self.alts.clone());
        let mut ends = Vec::new();
        step(&node, &chars, 0, &mut ends);
        ends.contains(&chars.len())
    }
}

fn parse_alt(c: &[char], at: &mut usize, depth: usize) -> Result<Vec<Vec<Node>>, String> {
    if depth > 100 {
        return Err("nesting too deep".into());
    }
    let mut alts = vec![Vec::new()];
    while *at < c.len() {
        let ch = c[*at];
        match ch {
            ')' => break,
            '|' => {
                *at += 1;
                alts.push(Vec::new());
                continue;
            }
            '*' | '+' | '?' | '{' => {
                let seq = alts.last_mut().expect("one");
                let Some(prev) = seq.pop() else {
                    if ch == '{' {
                        // RE2 takes a `{` that starts no repetition literally.
                        *at += 1;
                        seq.push(Node::Class(vec![('{', '{')], false));
                        continue;
                    }
                    return Err(format!("missing argument to repetition operator: {ch}"));
                };
                if matches!(prev, Node::Repeat(..)) && ch != '?' {
                    return Err(format!("invalid nested repetition operator: {ch}"));
                }
                let (min, max) = match ch {
                    '*' => (0, None),
                    '+' => (1, None),
                    '?' => (0, Some(1)),
                    _ => match parse_counts(c, *at) {
                        Some((min, max, len)) => {
                            *at += len - 1;
                            (min, max)
                        }
                        None => {
                            seq.push(prev);
                            seq.push(Node::Class(vec![('{', '{')], false));
                            *at += 1;
                            continue;
                        }
                    },
                };
                *at += 1;
                // A lazy `?` after a repetition changes nothing for a whole match.
                if ch != '?' && c.get(*at) == Some(&'?') {
                    *at += 1;
                }
                if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
                    return Err("invalid repeat count".into());
                }
                seq.push(Node::Repeat(Box::new(prev), min, max));
            }
            '(' => {
                *at += 1;
                if c.get(*at) == Some(&'?') {
                    if c.get(*at + 1) != Some(&':') {
                        return Err("unsupported group flags".into());
                    }
                    *at += 2;
                }
                let inner = parse_alt(c, at, depth + 1)?;
                if c.get(*at) != Some(&')') {
                    return Err("missing closing )".into());
                }
                *at += 1;
                alts.last_mut().expect("one").push(Node::Alt(inner));
            }
            '[' => {
                *at += 1;
                let node = parse_class(c, at)?;
                alts.last_mut().expect("one").push(node);
            }
            '.' | '^' | '$' => {
                *at += 1;
                let node = match ch {
                    '.' => Node::Any,
                    '^' => Node::Start,
                    _ => Node::End,
                };
                alts.last_mut().expect("one").push(node);
            }
            '\\' => {
                *at += 1;
                let node = parse_escape(c, at)?;
                alts.last_mut().expect("one").push(node);
            }
            _ => {
                *at += 1;
                alts.last_mut().expect("one").push(Node::Class(vec![(ch, ch)], false));
            }
        }
    }
    Ok(alts)
}

/// `{n}`, `{n,}` or `{n,m}` at `at`: (min, max, chars taken).
fn parse_counts(c: &[char], at: usize) -> Option<(u32, Option<u32>, usize)> {
    let close = c[at..].iter().position(|&x| x == '}')?;
    let body: String = c[at + 1..at + close].iter().collect();
    let (min, max) = match body.split_once(',') {
        None => {
            let n = body.parse().ok()?;
            (n, Some(n))
        }
        Some((a, "")) => (a.parse().ok()?, None),
        Some((a, b)) => (a.parse().ok()?, Some(b.parse().ok()?)),
    };
    Some((min, max, close + 1))
}

fn perl_class(ch: char) -> Option<(Vec<(char, char)>, bool)> {
    let (ranges, negated) = match ch {
        'd' | 'D' => (vec![('0', '9')], ch == 'D'),
        'w' | 'W' => (vec![('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')], ch == 'W'),
        's' | 'S' => (vec![('\t', '\n'), ('\x0c', '\r'), (' ', ' ')], ch == 'S'),
        _ => return None,
    };
    Some((ranges, negated))
}

fn parse_escape(c: &[char], at: &mut usize) -> Result<Node, String> {
    let Some(&ch) = c.get(*at) else {
        return Err("trailing backslash at end of expression".into());
    };
    *at += 1;
    if let Some((ranges, negated)) = perl_class(ch) {
        return Ok(Node::Class(ranges, negated));
    }
    match ch {
        'n' => Ok(Node::Class(vec![('\n', '\n')], false)),
        't' => Ok(Node::Class(vec![('\t', '\t')], false)),
        _ if ch.is_ascii_punctuation() => Ok(Node::Class(vec![(ch, ch)], false)),
        _ => Err(format!("invalid escape sequence: \\{ch}")),
    }
}

fn parse_class(c: &[char], at: &mut usize) -> Result<Node, String> {
    let negated = c.get(*at) == Some(&'^');
    if negated {
        *at += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let Some(&ch) = c.get(*at) else { return Err("missing closing ]".into()) };
        if ch == ']' && !first {
            *at += 1;
            break;
        }
        first = false;
        *at += 1;
        let lo = if ch == '\\' {
            let Some(&e) = c.get(*at) else { return Err("missing closing ]".into()) };
            *at += 1;
            if let Some((r, false)) = perl_class(e) {
                ranges.extend(r);
                continue;
            }
            match e {
                'n' => '\n',
                't' => '\t',
                _ if e.is_ascii_punctuation() => e,
                _ => return Err(format!("invalid escape sequence: \\{e}")),
            }
        } else {
            ch
        };
        if c.get(*at) == Some(&'-') && c.get(*at + 1).is_some_and(|&x| x != ']') {
            let hi = c[*at + 1];
            *at += 2;
            if hi < lo {
                return Err(format!("invalid character class range: {lo}-{hi}"));
            }
            ranges.push((lo, hi));
        } else {
            ranges.push((lo, lo));
        }
    }
    Ok(Node::Class(ranges, negated))
}

/// Every position `node` can end at when it starts at `i`, appended to `ends`.
fn step(node: &Node, s: &[char], i: usize, ends: &mut Vec<usize>) {
    match node {
        Node::Class(ranges, negated) => {
            if let Some(&ch) = s.get(i) {
                if ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&ch)) != *negated {
                    ends.push(i + 1);
                }
            }
        }
        Node::Any => {
            if s.get(i).is_some_and(|&ch| ch != '\n') {
                ends.push(i + 1);
            }
        }
        Node::Start => {
            if i == 0 {
                ends.push(i);
            }
        }
        Node::End => {
            if i == s.len() {
                ends.push(i);
            }
        }
        Node::Alt(alts) => {
            for seq in alts {
                let mut at = vec![i];
                for n in seq {
                    let mut next = Vec::new();
                    for &p in &at {
                        step(n, s, p, &mut next);
                    }
                    next.sort_unstable();
                    next.dedup();
                    at = next;
                }
                ends.extend(at);
            }
        }
        Node::Repeat(inner, min, max) => {
            // Breadth first over the positions reached after each count: linear in the
            // input for each count, and a count that adds no new position ends the walk.
            let mut at = vec![i];
            let mut seen = vec![false; s.len() + 1];
            let mut count = 0;
            loop {
                if count >= *min {
                    for &p in &at {
                        if !seen[p] {
                            seen[p] = true;
                            ends.push(p);
                        }
                    }
                }
                if max.is_some_and(|m| count >= m) || at.is_empty() {
                    break;
                }
                let mut next = Vec::new();
                for &p in &at {
                    step(inner, s, p, &mut next);
                }
                next.sort_unstable();
                next.dedup();
                if count >= *min {
                    next.retain(|&p| !seen[p]);
                }
                at = next;
                count += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn m(p: &str, s: &str) -> bool {
        Pattern::compile(p).unwrap().matches(s)
    }

    #[test]
    fn whole_matches() {
        assert!(m("tx-.*", "tx-1"));
        assert!(!m("tx", "tx-1"), "the whole id must match");
        assert!(m(".*-[b-z]", "run-b"));
        assert!(!m(".*-[b-z]", "run-a"));
        assert!(m("(a|bc)+d?", "abca"));
        assert!(m("^a{2,3}$", "aaa"));
        assert!(!m("a{2,3}", "aaaa"));
        assert!(m("x\\.\\d+", "x.42"));
        assert!(!m("x\\.\\d+", "xy42"));
        assert!(m("[^-]*", "abc"));
        assert!(m("(?:ab)*", ""));
    }

    #[test]
    fn invalid_patterns_are_refused() {
        for p in ["(", "[a", "*a", "a)", "\\", "[z-a]", "a{3,2}", "(?i)a", "\\q", "a**"] {
            assert!(Pattern::compile(p).is_err(), "{p}");
        }
    }
}
