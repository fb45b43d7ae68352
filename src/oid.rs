//! Object ids as the engine passes them around: 20-byte SHA-1 names and their hex forms.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The SHA-1 name of a git object (commit, tree, blob, tag) or a patch-id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId([u8; 20]);

impl ObjectId {
    /// Returns the id made of these 20 raw bytes.
    pub const fn from_bytes(bytes: [u8; 20]) -> Self {
        ObjectId(bytes)
    }

    /// Returns the 20 raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Parses exactly 40 hexadecimal digits (either case); anything else is `None`.
    pub fn from_hex(hex: &[u8]) -> Option<Self> {
        if hex.len() != 40 {
            return None;
        }
        let mut bytes = [0u8; 20];
        for (i, pair) in hex.chunks_exact(2).enumerate() {
            bytes[i] = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Some(ObjectId(bytes))
    }

    /// Returns the full 40-digit lowercase hex form.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(40);
        for byte in self.0 {
            out.push(DIGITS[usize::from(byte >> 4)] as char);
            out.push(DIGITS[usize::from(byte & 0xf)] as char);
        }
        out
    }

    /// Returns the first ten hex digits, enough to name a commit to a person.
    pub fn short(&self) -> String {
        let mut hex = self.to_hex();
        hex.truncate(10);
        hex
    }

    /// Tells whether this id's hex form starts with `prefix` (lowercase hex digits).
    pub fn starts_with_hex(&self, prefix: &str) -> bool {
        self.to_hex().starts_with(prefix)
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({})", self.short())
    }
}

impl Serialize for ObjectId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ObjectId::from_hex(text.as_bytes())
            .ok_or_else(|| serde::de::Error::custom(format!("not a 40-digit object id: {text}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let hex = "a126b5fd29c3bd3e1bfe5e3af0c8a4dc1bb3ea4f";
        let id = ObjectId::from_hex(hex.as_bytes()).expect("valid hex");
        assert_eq!(id.to_hex(), hex);
        assert_eq!(id.short(), "a126b5fd29");
        assert!(ObjectId::from_hex(b"a126").is_none());
        assert!(ObjectId::from_hex(&[b'g'; 40]).is_none());
    }
}
