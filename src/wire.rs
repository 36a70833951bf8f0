//! The protobuf wire format: varints, tags, fixed-width values and
//! length-delimited records. Hand-written because prost's equivalents live
//! behind its per-message traits, and the table-driven codec (`js/encode.rs`,
//! `js/decode.rs`) and the descriptor reader (`schema.rs`) need the bare
//! primitives over one schema known only at run time.

/// The six wire types (groups, deprecated, are only ever skipped).
pub const VARINT: u8 = 0;
pub const I64: u8 = 1;
pub const LEN: u8 = 2;
pub const SGROUP: u8 = 3;
pub const EGROUP: u8 = 4;
pub const I32: u8 = 5;

/// Appends `value` as a base-128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub fn put_tag(out: &mut Vec<u8>, number: u32, wire_type: u8) {
    put_varint(out, (u64::from(number) << 3) | u64::from(wire_type));
}

/// A length-delimited record: its length, then its bytes.
pub fn put_len(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

pub fn zigzag32(n: i32) -> u64 {
    u64::from(((n << 1) ^ (n >> 31)) as u32)
}

pub fn zigzag64(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

pub fn unzigzag32(n: u64) -> i32 {
    let n = n as u32;
    ((n >> 1) as i32) ^ -((n & 1) as i32)
}

pub fn unzigzag64(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// Why bytes are not a valid encoding.
pub type WireError = &'static str;

/// How deeply groups may nest inside an unknown group (prost's recursion
/// limit), so hostile bytes cannot exhaust the stack.
pub const MAX_GROUP_DEPTH: usize = 100;

/// Reads one message's bytes front to back.
pub struct Reader<'a> {
    bytes: &'a [u8],
    /// The number in the tag read last: an unknown group ends at the
    /// end-group tag with the same number.
    number: u32,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, number: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    /// The next field's number and wire type; `None` at the end.
    pub fn tag(&mut self) -> Result<Option<(u32, u8)>, WireError> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 || number > u64::from(u32::MAX >> 3) {
            return Err("invalid field number");
        }
        self.number = number as u32;
        Ok(Some((self.number, (key & 7) as u8)))
    }

    pub fn varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for (i, &byte) in self.bytes.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                self.bytes = &self.bytes[i + 1..];
                return Ok(value);
            }
        }
        Err(if self.bytes.len() < 10 {
            "truncated varint"
        } else {
            "varint longer than 10 bytes"
        })
    }

    pub fn fixed32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    pub fn fixed64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// A length-delimited record's bytes.
    pub fn len_delimited(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.varint()?;
        usize::try_from(len)
            .ok()
            .filter(|&len| len <= self.bytes.len())
            .ok_or("length-delimited field runs past the end")
            .and_then(|len| self.take(len))
    }

    /// Skips the value of the field whose tag was read last (of
    /// `wire_type`), one the schema does not know. A group is skipped to
    /// its end-group tag, as any protobuf parser skips an unknown group.
    pub fn skip(&mut self, wire_type: u8) -> Result<(), WireError> {
        self.skip_value(self.number, wire_type, 0)
    }

    fn skip_value(&mut self, number: u32, wire_type: u8, depth: usize) -> Result<(), WireError> {
        match wire_type {
            VARINT => self.varint().map(drop),
            I64 => self.take(8).map(drop),
            LEN => self.len_delimited().map(drop),
            I32 => self.take(4).map(drop),
            SGROUP => self.skip_group(number, depth),
            EGROUP => Err("an end-group tag without its start"),
            _ => Err("invalid wire type"),
        }
    }

    /// The rest of group `number`, through its end-group tag.
    fn skip_group(&mut self, number: u32, depth: usize) -> Result<(), WireError> {
        if depth >= MAX_GROUP_DEPTH {
            return Err("groups nested too deeply");
        }
        loop {
            match self.tag()? {
                None => return Err("a group without its end"),
                Some((end, EGROUP)) if end == number => return Ok(()),
                Some((_, EGROUP)) => return Err("a group ends with another group's number"),
                Some((inner, wire_type)) => self.skip_value(inner, wire_type, depth + 1)?,
            }
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.bytes.len() {
            return Err("truncated field");
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_their_edges() {
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            let mut reader = Reader::new(&out);
            assert_eq!(reader.varint(), Ok(value));
            assert!(reader.is_empty());
        }
        let mut out = Vec::new();
        put_varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        put_varint(&mut out, u64::MAX);
        assert_eq!(out.len(), 12);
    }

    #[test]
    fn bad_varints_are_errors() {
        assert_eq!(Reader::new(&[0x80]).varint(), Err("truncated varint"));
        assert_eq!(
            Reader::new(&[0xff; 11]).varint(),
            Err("varint longer than 10 bytes")
        );
    }

    #[test]
    fn zigzag_matches_the_spec() {
        assert_eq!(zigzag32(0), 0);
        assert_eq!(zigzag32(-1), 1);
        assert_eq!(zigzag32(1), 2);
        assert_eq!(zigzag32(i32::MIN), u64::from(u32::MAX));
        assert_eq!(zigzag64(i64::MIN), u64::MAX);
        for n in [0, 1, -1, i32::MAX, i32::MIN] {
            assert_eq!(unzigzag32(zigzag32(n)), n);
        }
        for n in [0, 1, -1, i64::MAX, i64::MIN] {
            assert_eq!(unzigzag64(zigzag64(n)), n);
        }
    }

    #[test]
    fn tags_and_records_read_back() {
        let mut out = Vec::new();
        put_tag(&mut out, 1, LEN);
        put_len(&mut out, b"abc");
        put_tag(&mut out, 2, I32);
        out.extend_from_slice(&7u32.to_le_bytes());
        put_tag(&mut out, 3, I64);
        out.extend_from_slice(&9u64.to_le_bytes());
        let mut r = Reader::new(&out);
        assert_eq!(r.tag(), Ok(Some((1, LEN))));
        assert_eq!(r.len_delimited(), Ok(&b"abc"[..]));
        assert_eq!(r.tag(), Ok(Some((2, I32))));
        assert_eq!(r.fixed32(), Ok(7));
        assert_eq!(r.tag(), Ok(Some((3, I64))));
        assert_eq!(r.skip(I64), Ok(()));
        assert_eq!(r.tag(), Ok(None));
    }

    #[test]
    fn truncated_and_invalid_fields_are_errors() {
        assert!(Reader::new(&[0x0a, 0x05, b'a']).tag().is_ok());
        let mut r = Reader::new(&[0x05, b'a']);
        assert!(r.len_delimited().is_err());
        assert_eq!(Reader::new(&[0x00]).tag(), Err("invalid field number"));
        assert!(Reader::new(&[]).skip(SGROUP).is_err());
        assert!(Reader::new(&[]).skip(EGROUP).is_err());
        assert!(Reader::new(&[]).skip(6).is_err());
        assert!(Reader::new(&[1, 2]).fixed32().is_err());
    }

    /// Group `number` holding `inner`, closed with `end`'s number.
    fn group(number: u32, inner: &[u8], end: u32) -> Vec<u8> {
        let mut out = Vec::new();
        put_tag(&mut out, number, SGROUP);
        out.extend_from_slice(inner);
        put_tag(&mut out, end, EGROUP);
        out
    }

    #[test]
    fn unknown_groups_are_skipped_to_their_end() {
        let mut inner = Vec::new();
        put_tag(&mut inner, 1, VARINT);
        put_varint(&mut inner, 300);
        put_tag(&mut inner, 2, LEN);
        put_len(&mut inner, b"x");
        inner.extend(group(3, &[], 3));
        let mut bytes = group(7, &inner, 7);
        put_tag(&mut bytes, 1, VARINT);
        put_varint(&mut bytes, 5);
        let mut r = Reader::new(&bytes);
        assert_eq!(r.tag(), Ok(Some((7, SGROUP))));
        assert_eq!(r.skip(SGROUP), Ok(()));
        assert_eq!(r.tag(), Ok(Some((1, VARINT))));
        assert_eq!(r.varint(), Ok(5));
        assert_eq!(r.tag(), Ok(None));
    }

    #[test]
    fn broken_groups_are_errors() {
        let skip = |bytes: &[u8]| {
            let mut r = Reader::new(bytes);
            let (_, wire_type) = r.tag().unwrap().unwrap();
            r.skip(wire_type)
        };
        assert_eq!(
            skip(&group(7, &[], 8)),
            Err("a group ends with another group's number")
        );
        let mut open = Vec::new();
        put_tag(&mut open, 7, SGROUP);
        assert_eq!(skip(&open), Err("a group without its end"));
        let mut end = Vec::new();
        put_tag(&mut end, 7, EGROUP);
        assert_eq!(skip(&end), Err("an end-group tag without its start"));
        // 100 levels are fine, 101 are not, and neither recurses without bound.
        let nested = |levels: usize| (0..levels).fold(Vec::new(), |inner, _| group(1, &inner, 1));
        assert_eq!(skip(&nested(MAX_GROUP_DEPTH)), Ok(()));
        assert_eq!(
            skip(&nested(MAX_GROUP_DEPTH + 1)),
            Err("groups nested too deeply")
        );
        let mut deep = Vec::new();
        for _ in 0..100_000 {
            put_tag(&mut deep, 1, SGROUP);
        }
        assert_eq!(skip(&deep), Err("groups nested too deeply"));
    }
}
