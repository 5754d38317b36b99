//! Walking a request's nested arrays in place. Produce and Fetch carry an array of topics,
//! each ending in an array of partitions; decoding them into vectors would cost allocations on
//! every request of the two hottest APIs. Instead the request is checked whole once, by walking
//! it, and the handler walks it again, each step decoded straight from the frame.

use super::codec::{Put, Reader, Result};

/// One step of the walk: an outer element (a topic) with the length of its inner array, then
/// each inner element (its partitions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<O, I> {
    Outer(O, usize),
    Inner(I),
}

/// Walks `count` outer elements, each decoded by `outer` up to its inner array, which is its
/// last field; each inner element is decoded (tagged fields included) by `inner`.
pub struct Nested<'a, F, G> {
    r: Reader<'a>,
    flexible: bool,
    outer_left: usize,
    inner_left: usize,
    in_outer: bool,
    outer: F,
    inner: G,
}

impl<'a, F, G, O, I> Nested<'a, F, G>
where
    F: FnMut(&mut Reader<'a>) -> Result<O>,
    G: FnMut(&mut Reader<'a>) -> Result<I>,
{
    pub fn new(r: Reader<'a>, flexible: bool, count: usize, outer: F, inner: G) -> Self {
        Nested { r, flexible, outer_left: count, inner_left: 0, in_outer: false, outer, inner }
    }

    /// Where the walk has got to: past the whole array once it has returned `None`.
    pub fn reader(&self) -> &Reader<'a> {
        &self.r
    }

    /// Walks to the end; the first malformed field is the error.
    pub fn check(&mut self) -> Result<()> {
        self.try_for_each(|step| step.map(drop))
    }

    /// Encodes a response array that mirrors the walk (Produce and Fetch answer every topic
    /// and partition they were asked, in order): its count, then for each outer element what
    /// `outer` writes followed by the inner count, one `inner` per inner element, and the
    /// element's tagged fields.
    pub fn mirror<W: AsMut<Vec<u8>>>(
        self,
        out: &mut W,
        mut outer: impl FnMut(O, &mut W),
        mut inner: impl FnMut(&mut W),
    ) -> Result<()> {
        let flexible = self.flexible;
        out.as_mut().put_array_len(Some(self.outer_left), flexible);
        let mut first = true;
        for step in self {
            match step? {
                Step::Outer(o, n) => {
                    if !std::mem::take(&mut first) {
                        out.as_mut().put_empty_tags(flexible);
                    }
                    outer(o, out);
                    out.as_mut().put_array_len(Some(n), flexible);
                }
                Step::Inner(_) => inner(out),
            }
        }
        if !first {
            out.as_mut().put_empty_tags(flexible);
        }
        Ok(())
    }

    fn step(&mut self) -> Result<Option<Step<O, I>>> {
        if self.inner_left > 0 {
            self.inner_left -= 1;
            return (self.inner)(&mut self.r).map(|i| Some(Step::Inner(i)));
        }
        if std::mem::take(&mut self.in_outer) {
            self.r.end_struct(self.flexible)?;
        }
        if self.outer_left == 0 {
            return Ok(None);
        }
        self.outer_left -= 1;
        let o = (self.outer)(&mut self.r)?;
        let n = self.r.array_len(self.flexible)?.unwrap_or(0);
        (self.inner_left, self.in_outer) = (n, true);
        Ok(Some(Step::Outer(o, n)))
    }
}

impl<'a, F, G, O, I> Iterator for Nested<'a, F, G>
where
    F: FnMut(&mut Reader<'a>) -> Result<O>,
    G: FnMut(&mut Reader<'a>) -> Result<I>,
{
    type Item = Result<Step<O, I>>;

    fn next(&mut self) -> Option<Self::Item> {
        let step = self.step();
        if step.is_err() {
            // Nothing can be read past a malformed field.
            (self.outer_left, self.inner_left, self.in_outer) = (0, 0, false);
        }
        step.transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::codec::Put;

    fn encoded(flexible: bool) -> Vec<u8> {
        let mut b = Vec::new();
        for (name, parts) in [("a", &[1, 2][..]), ("b", &[][..]), ("c", &[3][..])] {
            b.put_string(name, flexible);
            b.put_array_len(Some(parts.len()), flexible);
            for p in parts {
                b.put_i32(*p);
                b.put_empty_tags(flexible);
            }
            b.put_empty_tags(flexible);
        }
        b.put_i8(99);
        b
    }

    fn walk<'a>(
        b: &'a [u8],
        flexible: bool,
    ) -> Nested<
        'a,
        impl FnMut(&mut Reader<'a>) -> Result<&'a str>,
        impl FnMut(&mut Reader<'a>) -> Result<i32>,
    > {
        let partition = move |r: &mut Reader<'a>| {
            let p = r.i32()?;
            r.end_struct(flexible)?;
            Ok(p)
        };
        Nested::new(Reader::new(b), flexible, 3, move |r| r.string(flexible), partition)
    }

    #[test]
    fn walks_outer_then_inner_and_stops_after_the_array() {
        for flexible in [false, true] {
            let b = encoded(flexible);
            let mut walk = walk(&b, flexible);
            let steps: Vec<_> = walk.by_ref().map(|s| s.unwrap()).collect();
            use Step::*;
            assert_eq!(
                steps,
                [Outer("a", 2), Inner(1), Inner(2), Outer("b", 0), Outer("c", 1), Inner(3)]
            );
            assert_eq!(walk.reader().clone().i8(), Ok(99));
        }
    }

    #[test]
    fn a_cut_anywhere_is_an_error_and_ends_the_walk() {
        let b = encoded(true);
        for cut in 0..b.len() - 1 {
            let mut walk = walk(&b[..cut], true);
            assert!(walk.check().is_err(), "cut at {cut}");
            assert!(walk.next().is_none());
        }
    }
}
