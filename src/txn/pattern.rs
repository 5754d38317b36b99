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

/// A compiled pattern: a program for a Pike VM (Thompson's construction, as RE2 runs it),
/// so matching takes time linear in the id times the program, whatever the pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    prog: Vec<Inst>,
}

#[derive(Debug, Clone)]
enum Inst {
    Class(Vec<(char, char)>, bool),
    Any,
    Start,
    End,
    Split(usize, usize),
    Jmp(usize),
    Match,
}

/// Repetition counts above this are refused (RE2's limit is 1000).
const MAX_REPEAT: u32 = 1000;
/// Programs larger than this are refused, as RE2 refuses an expression too large.
const MAX_PROGRAM: usize = 10_000;

impl Pattern {
    pub fn compile(p: &str) -> Result<Pattern, String> {
        let chars: Vec<char> = p.chars().collect();
        let mut at = 0;
        let alts = parse_alt(&chars, &mut at, 0)?;
        if at != chars.len() {
            return Err(format!("unexpected ) at {at}"));
        }
        let mut prog = Vec::new();
        emit(&Node::Alt(alts), &mut prog)?;
        prog.push(Inst::Match);
        Ok(Pattern { prog })
    }

    /// Whether the whole of `s` matches (Java's `Matcher.matches`).
    pub fn matches(&self, s: &str) -> bool {
        let chars: Vec<char> = s.chars().collect();
        let n = chars.len();
        let mut seen = vec![usize::MAX; self.prog.len()];
        let mut current = Vec::new();
        let mut next = Vec::new();
        let mut stack = Vec::new();
        self.add(0, 0, n, &mut seen, &mut current, &mut stack);
        for (i, &ch) in chars.iter().enumerate() {
            next.clear();
            for &pc in &current {
                let step = match &self.prog[pc] {
                    Inst::Class(ranges, negated) => {
                        ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&ch)) != *negated
                    }
                    Inst::Any => ch != '\n',
                    _ => false,
                };
                if step {
                    self.add(pc + 1, i + 1, n, &mut seen, &mut next, &mut stack);
                }
            }
            std::mem::swap(&mut current, &mut next);
            if current.is_empty() {
                return false;
            }
        }
        current.iter().any(|&pc| matches!(self.prog[pc], Inst::Match))
    }

    /// Adds the threads `pc` leads to at position `i` (following jumps, splits and anchors)
    /// to `list`, each program counter once per position.
    fn add(
        &self,
        pc: usize,
        i: usize,
        n: usize,
        seen: &mut [usize],
        list: &mut Vec<usize>,
        stack: &mut Vec<usize>,
    ) {
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if seen[pc] == i {
                continue;
            }
            seen[pc] = i;
            match self.prog[pc] {
                Inst::Jmp(to) => stack.push(to),
                Inst::Split(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                Inst::Start if i == 0 => stack.push(pc + 1),
                Inst::End if i == n => stack.push(pc + 1),
                Inst::Start | Inst::End => {}
                _ => list.push(pc),
            }
        }
    }
}

/// Appends the instructions of `node` to `prog`.
fn emit(node: &Node, prog: &mut Vec<Inst>) -> Result<(), String> {
    if prog.len() > MAX_PROGRAM {
        return Err("expression too large".into());
    }
    match node {
        Node::Class(ranges, negated) => prog.push(Inst::Class(ranges.clone(), *negated)),
        Node::Any => prog.push(Inst::Any),
        Node::Start => prog.push(Inst::Start),
        Node::End => prog.push(Inst::End),
        Node::Alt(alts) => {
            // Split(this, next alternative) before each but the last; each jumps to the end.
            let mut to_end = Vec::new();
            for (k, seq) in alts.iter().enumerate() {
                let split = prog.len();
                if k + 1 < alts.len() {
                    prog.push(Inst::Split(split + 1, 0));
                }
                for n in seq {
                    emit(n, prog)?;
                }
                if k + 1 < alts.len() {
                    to_end.push(prog.len());
                    prog.push(Inst::Jmp(0));
                    let next = prog.len();
                    prog[split] = Inst::Split(split + 1, next);
                }
            }
            let end = prog.len();
            for at in to_end {
                prog[at] = Inst::Jmp(end);
            }
        }
        Node::Repeat(inner, min, max) => {
            for _ in 0..*min {
                emit(inner, prog)?;
            }
            match max {
                None => {
                    let split = prog.len();
                    prog.push(Inst::Split(split + 1, 0));
                    emit(inner, prog)?;
                    prog.push(Inst::Jmp(split));
                    let out = prog.len();
                    prog[split] = Inst::Split(split + 1, out);
                }
                Some(max) => {
                    let mut splits = Vec::new();
                    for _ in *min..*max {
                        splits.push(prog.len());
                        prog.push(Inst::Split(prog.len() + 1, 0));
                        emit(inner, prog)?;
                    }
                    let out = prog.len();
                    for at in splits {
                        prog[at] = Inst::Split(at + 1, out);
                    }
                }
            }
        }
    }
    if prog.len() > MAX_PROGRAM {
        return Err("expression too large".into());
    }
    Ok(())
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
    fn nested_repetitions_take_linear_time() {
        let long = "a".repeat(5000);
        assert!(!m("(a*)*(a*)*(a*)*b", &long));
        assert!(m("((a|aa)+)+", &long));
        assert!(m("(x?){0,1000}x{0,1000}", &"x".repeat(1000)));
    }

    #[test]
    fn invalid_patterns_are_refused() {
        assert_eq!(Pattern::compile("(a{1000}){1000}").unwrap_err(), "expression too large");
        for p in ["(", "[a", "*a", "a)", "\\", "[z-a]", "a{3,2}", "(?i)a", "\\q", "a**"] {
            assert!(Pattern::compile(p).is_err(), "{p}");
        }
    }
}
